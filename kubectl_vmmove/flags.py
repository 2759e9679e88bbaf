"""Flags shared by verbs of both jobs. Verb modules import this, never `cli.py`."""


def add_output_flag(parser, formats=("table", "wide", "yaml", "json", "name"), default="table"):
    """`-o/--output` and `--no-headers`, shared by every verb that prints objects or tables."""
    parser.add_argument("-o", "--output", default=default, metavar="FORMAT",
                        help="Output format: " + "|".join(formats))
    if "table" in formats:
        parser.add_argument("--no-headers", action="store_true", help="Do not print table headers")
    parser.set_defaults(_output_formats=tuple(formats))
