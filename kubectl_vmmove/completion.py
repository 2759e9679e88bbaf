"""`kubectl vmmove completion`: shell completion for bash, zsh and fish, and for kubectl's own plugin completion.

One completer serves every shell. It speaks cobra's `__complete` protocol because kubectl (1.26+) already does: for
`kubectl vmmove plan -n le<TAB>` kubectl runs `kubectl_complete-vmmove plan -n le` (the words after `vmmove`, the
last one being the word under the cursor, "" for a new word) and reads candidates one per line, each optionally
followed by a tab and a description, then a last line `:<directive>` (cobra's ShellCompDirective bits below). The
`kubectl_complete-vmmove` helper and the scripts printed here all call `kubectl-vmmove completion __complete WORDS`.

The verbs and flags come from cli.build_parser() (handed to the verb as args.build_parser), so nothing here repeats the verb list. Namespaces and VM names
come from the cluster, contexts, clusters and users from the kubeconfig; a lookup that fails offers nothing rather
than an error, because a TAB press must never print a traceback into the user's command line.
"""

import argparse
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, List, Optional, Sequence, Tuple

from . import __version__
from .errors import UsageError
from .verbs import Streams, VerbOptions, run_verb

DESCRIPTION = """Print a shell completion script for bash, zsh or fish.

With kubectl 1.26 or later, `kubectl vmmove <TAB>` completes through kubectl's own completion once the
`kubectl_complete-vmmove` helper (shipped beside the binary) is on your PATH. The scripts printed here complete the
`kubectl-vmmove` command itself. Both complete verbs, flags, namespaces and VM names from the cluster."""

EXAMPLES = f"""Examples:
  # bash (needs the bash-completion package)
  source <(kubectl vmmove completion bash)
  # zsh
  source <(kubectl vmmove completion zsh)
  # fish
  kubectl vmmove completion fish | source
  # kubectl's own completion of `kubectl vmmove ...`, for a krew install
  ln -s "${{KREW_ROOT:-$HOME/.krew}}/store/vmmove/v{__version__}/kubectl_complete-vmmove" "${{KREW_ROOT:-$HOME/.krew}}/bin/\""""

SHELLS = ("bash", "zsh", "fish")
PROTOCOL_WORD = "__complete"  # cobra's name for the hidden entry that answers completion requests

# cobra's ShellCompDirective bits (spf13/cobra completions.go), which kubectl passes on to the shell unchanged.
DIRECTIVE_ERROR = 1
DIRECTIVE_NO_SPACE = 2
DIRECTIVE_NO_FILE_COMP = 4
DIRECTIVE_FILTER_FILE_EXT = 8
DIRECTIVE_FILTER_DIRS = 16
DIRECTIVE_KEEP_ORDER = 32

# What a flag's value or a positional argument names. Verbs may set `action.completion = <kind>` (see `hint`);
# without one, the argument's name decides (`_guess_kind`).
NAMESPACES = "namespaces"
VM_NAMES = "virtualmachines"
MOVE_IDS = "moves"  # from the journals
CONTEXTS = "contexts"
CLUSTERS = "clusters"
USERS = "users"
FILES = "files"
DIRECTORIES = "directories"
NOTHING = "nothing"

_CLUSTER_KINDS = (NAMESPACES, VM_NAMES, MOVE_IDS)
_KUBECONFIG_KINDS = (CONTEXTS, CLUSTERS, USERS)


def hint(action: argparse.Action, kind: str, extensions: Sequence[str] = ()) -> argparse.Action:
    """Say what an argument names, for completion: `hint(parser.add_argument("vms", nargs="*"), VM_NAMES)`."""
    # argparse keeps unknown attributes on an Action; the completer reads them back with getattr.
    action.completion = kind  # type: ignore[attr-defined]  # extra attribute on argparse.Action, read by getattr
    action.completion_extensions = tuple(extensions)  # type: ignore[attr-defined]  # as above
    return action


@dataclass
class Completion:
    """Candidates as (value, description) and the directive telling the shell what to do with them."""

    candidates: List[Tuple[str, str]] = field(default_factory=list)
    directive: int = DIRECTIVE_NO_FILE_COMP

    def render(self) -> str:
        lines = [f"{value}\t{desc}" if desc else value for value, desc in self.candidates]
        lines.append(f":{self.directive}")
        return "\n".join(lines) + "\n"


# A lookup answers "which names of this kind exist?" given the flags typed so far (namespace, context, ...).
Lookup = Callable[[str, argparse.Namespace], List[str]]


# --------------------------------------------------------------------------------------------------- the walk


@dataclass
class _State:
    parser: argparse.ArgumentParser
    flags: argparse.Namespace  # values of the flags already typed, by dest (for -n, --context, --kubeconfig ...)
    used: set  # dests of flags already given, so a flag given once is not offered again
    positionals: List[str]  # positional words typed for the current (sub)command
    pending: Optional[argparse.Action] = None  # the flag whose value is the word under the cursor
    after_dashdash: bool = False


def _subparsers(parser: argparse.ArgumentParser) -> Optional[argparse._SubParsersAction]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return None


def _option(parser: argparse.ArgumentParser, flag: str) -> Optional[argparse.Action]:
    return parser._option_string_actions.get(flag)


def _takes_value(action: argparse.Action) -> bool:
    return action.nargs != 0


def _hidden(action: argparse.Action) -> bool:
    return action.help == argparse.SUPPRESS


def _walk(root: argparse.ArgumentParser, words: Sequence[str]) -> _State:
    state = _State(root, argparse.Namespace(), set(), [])
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if state.after_dashdash or word == "-" or not word.startswith("-"):
            sub = _subparsers(state.parser)
            if sub is not None and not state.positionals and word in sub.choices:
                # kubectl's flags given before the verb still count: every verb has them too.
                state.parser = sub.choices[word]
            else:
                state.positionals.append(word)
            continue
        if word == "--":
            state.after_dashdash = True
            continue
        name, eq, value = word.partition("=")
        action = _option(state.parser, name)
        if action is None and not name.startswith("--") and len(name) > 2:
            # kubectl's short flags take their value glued on: -nlegacy
            action, eq, value = _option(state.parser, name[:2]), "=", name[2:]
        if action is None:
            continue
        state.used.add(action.dest)
        if not _takes_value(action):
            continue
        if eq:
            setattr(state.flags, action.dest, value)
        elif i < len(words):
            setattr(state.flags, action.dest, words[i])
            i += 1
        else:
            state.pending = action
    return state


# --------------------------------------------------------------------------------------------------- completing


def complete(root: argparse.ArgumentParser, words: Sequence[str], lookup: Lookup) -> Completion:
    """Complete the last of `words` (the words after `vmmove`; "" to start a new word)."""
    words = list(words) or [""]
    typed, current = words[:-1], words[-1]
    state = _walk(root, typed)
    if state.pending is not None:
        return _values(state.pending, state, current, lookup, prefix="")
    if current.startswith("-") and not state.after_dashdash:
        name, eq, value = current.partition("=")
        if eq:
            action = _option(state.parser, name)
            if action is None or not _takes_value(action):
                return Completion()
            return _values(action, state, value, lookup, prefix=name + "=")
        return _flags(state, current)
    return _positional(state, current, lookup)


def _flags(state: _State, current: str) -> Completion:
    out = []
    for action in state.parser._actions:
        if not action.option_strings or _hidden(action):
            continue
        repeatable = isinstance(action, (argparse._AppendAction, argparse._CountAction))
        if action.dest in state.used and not repeatable:
            continue
        # "-" alone offers every spelling; "--" and longer prefixes only the ones that match.
        for flag in action.option_strings:
            if flag.startswith(current):
                out.append((flag, _first_line(action.help)))
    return Completion(sorted(set(out)), DIRECTIVE_NO_FILE_COMP)


def _positional(state: _State, current: str, lookup: Lookup) -> Completion:
    sub = _subparsers(state.parser)
    if sub is not None and not state.positionals:
        helps = {a.dest: a.help for a in sub._choices_actions}
        out = [(name, _first_line(helps.get(name))) for name in sub.choices
               if name.startswith(current) and helps.get(name) != argparse.SUPPRESS]
        return Completion(out, DIRECTIVE_NO_FILE_COMP | DIRECTIVE_KEEP_ORDER)
    action = _positional_action(state.parser, len(state.positionals))
    if action is None:
        return Completion()
    completion = _values(action, state, current, lookup, prefix="")
    if _kind(action) == VM_NAMES:
        # A VM named once is not offered again: `plan web-01 <TAB>` lists the others.
        completion.candidates = [c for c in completion.candidates if c[0] not in state.positionals]
    return completion


def _positional_action(parser: argparse.ArgumentParser, index: int) -> Optional[argparse.Action]:
    for action in parser._actions:
        if action.option_strings or isinstance(action, argparse._SubParsersAction) or _hidden(action):
            continue
        if action.nargs in ("*", "+", argparse.REMAINDER):
            return action
        count = 1 if action.nargs in (None, "?") else int(action.nargs)
        if index < count:
            return action
        index -= count
    return None


def _values(action: argparse.Action, state: _State, current: str, lookup: Lookup, prefix: str) -> Completion:
    choices = action.choices or getattr(action, "completion_choices", None)
    if choices:
        names = [str(c) for c in choices]
        return Completion([(prefix + n, "") for n in names if n.startswith(current)], DIRECTIVE_NO_FILE_COMP)
    if action.dest == "output":
        formats = state.parser.get_default("_output_formats") or ()
        return Completion([(prefix + f, "") for f in formats if f.startswith(current)], DIRECTIVE_NO_FILE_COMP)
    kind = _kind(action)
    if kind == FILES:
        extensions = getattr(action, "completion_extensions", ())
        if extensions:
            return Completion([(e, "") for e in extensions], DIRECTIVE_FILTER_FILE_EXT)
        return Completion([], 0)
    if kind == DIRECTORIES:
        return Completion([], DIRECTIVE_FILTER_DIRS)
    if kind in _CLUSTER_KINDS or kind in _KUBECONFIG_KINDS:
        try:
            names = lookup(kind, state.flags)
        except Exception:  # noqa: BLE001 - an unreachable cluster or a broken kubeconfig: nothing to offer
            names = []
        return Completion([(prefix + n, "") for n in sorted(set(names)) if n.startswith(current)],
                          DIRECTIVE_NO_FILE_COMP)
    return Completion()


def _kind(action: argparse.Action) -> str:
    return getattr(action, "completion", None) or _guess_kind(action)


# Argument names that say what they hold, for verbs that did not `hint` their arguments.
_NAMESPACE_NAMES = {"namespace", "to", "target_namespace", "target", "from_namespace", "source_namespace"}
_VM_NAMES = {"vm", "vms", "name", "names", "vm_names", "virtualmachines"}
_FILE_NAMES = {"kubeconfig", "filename", "file", "files", "certificate_authority", "client_certificate",
               "client_key", "report", "plan", "inputs", "input", "export", "exports", "paths", "path"}
_DIR_NAMES = {"output_dir", "dir", "directory"}


def _guess_kind(action: argparse.Action) -> str:
    metavar = (action.metavar if isinstance(action.metavar, str) else "") or ""
    longs = [o[2:].replace("-", "_") for o in action.option_strings if o.startswith("--")]
    # The flag's own name first (`-f/--filename` stores into `move_list`), then where it stores its value.
    for dest in longs + [action.dest]:
        kind = _kind_of_name(dest, metavar)
        if kind != NOTHING:
            return kind
    return NOTHING


def _kind_of_name(dest: str, metavar: str) -> str:
    if metavar.upper() == "MOVE_ID":  # an existing move (status, verify, run --resume); `--move-id ID` names a new one
        return MOVE_IDS
    if dest in ("context",):
        return CONTEXTS
    if dest in ("cluster",):
        return CLUSTERS
    if dest in ("user",):
        return USERS
    if dest in _NAMESPACE_NAMES or metavar.upper() == "NAMESPACE":
        return NAMESPACES
    if dest in _VM_NAMES or metavar.upper() in ("VM", "VM_NAME", "NAME"):
        return VM_NAMES
    if dest in _DIR_NAMES or metavar.upper() in ("DIR", "DIRECTORY"):
        return DIRECTORIES
    if dest in _FILE_NAMES or metavar.upper() in ("PATH", "FILE", "FILENAME"):
        return FILES
    return NOTHING


def _first_line(text: Optional[str]) -> str:
    if not text or text == argparse.SUPPRESS:
        return ""
    return text.strip().splitlines()[0].replace("\t", " ")


# --------------------------------------------------------------------------------------------------- lookups


def cluster_lookup(kind: str, flags: argparse.Namespace) -> List[str]:
    """Names from the kubeconfig (contexts, clusters, users) or the cluster (namespaces, VMs in the namespace, the
    ids of moves from their journals)."""
    if kind in _KUBECONFIG_KINDS:
        from .kube import config

        merged = config.merge(config.kubeconfig_files(getattr(flags, "kubeconfig", None), os.environ))
        return list(merged.get(kind) or {})
    from .kube import kinds
    from .kube.session import Session

    session = Session.from_args(_with_short_timeout(flags))
    if kind == NAMESPACES:
        return _names(session.api.list(kinds.NAMESPACE, metadata_only=True).items)
    if kind == MOVE_IDS:
        return _move_ids(session, kinds.CONFIGMAP)
    return _names(session.api.list(kinds.VM, namespace=session.namespace, metadata_only=True).items)


def _with_short_timeout(flags: argparse.Namespace) -> argparse.Namespace:
    # A TAB press that hangs on an unreachable server is worse than no candidates.
    args = argparse.Namespace(**vars(flags))
    if getattr(args, "request_timeout", None) is None:
        args.request_timeout = "5s"
    return args


def _move_ids(session, configmap) -> List[str]:
    from .kube import errors as kerr
    from .move.state.journal import JOURNAL_LABEL, MOVE_ID_LABEL

    # Journals live in the target namespaces: every namespace when the user may list them all, else the current one.
    selector = f"{JOURNAL_LABEL}=true"
    try:
        items = session.api.list(configmap, None, label_selector=selector, metadata_only=True).items
    except kerr.Forbidden:
        items = session.api.list(configmap, session.namespace, label_selector=selector, metadata_only=True).items
    labels = [(item.get("metadata") or {}).get("labels") or {} for item in items]
    return [lab[MOVE_ID_LABEL] for lab in labels if lab.get(MOVE_ID_LABEL)]


def _names(items: Iterable[dict]) -> List[str]:
    return [(item.get("metadata") or {}).get("name", "") for item in items if (item.get("metadata") or {}).get("name")]


# --------------------------------------------------------------------------------------------------- the verb


def add_arguments(parser):
    # Not argparse choices: the hidden protocol word must pass too.
    shell = parser.add_argument("shell", nargs="?", metavar="SHELL", help="bash, zsh or fish")
    shell.completion_choices = SHELLS
    # The words of a completion request, after the hidden shell name `__complete`; flags among them are not ours.
    parser.add_argument("words", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)


@dataclass
class CompletionOptions(VerbOptions):
    shell: Optional[str]
    words: List[str]
    build_parser: Any
    streams: Streams

    @classmethod
    def complete(cls, args, streams):
        return cls(shell=args.shell, words=list(args.words or ()), build_parser=getattr(args, "build_parser", None),
                   streams=streams)

    def validate(self):
        if self.shell == PROTOCOL_WORD:
            return
        if self.shell is None:
            raise UsageError(f"name the shell: {', '.join(SHELLS)}, e.g. 'source <(kubectl vmmove completion bash)'\n"
                             "See 'kubectl vmmove completion --help' for usage.")
        if self.words:
            raise UsageError(f"unexpected arguments after the shell name: {' '.join(self.words)}\n"
                             "See 'kubectl vmmove completion --help' for usage.")
        if self.shell not in SHELLS:
            raise UsageError(f'unsupported shell type "{self.shell}": use one of {", ".join(SHELLS)}\n'
                             "See 'kubectl vmmove completion --help' for usage.")

    def run(self):
        if self.shell == PROTOCOL_WORD:
            return complete_main(self.words, self.build_parser, stream=self.streams.out)
        self.streams.out.write(script(self.shell or ""))
        return 0


def run(args):
    return run_verb(CompletionOptions, args)


def complete_main(words: Sequence[str], build_parser, lookup: Lookup = cluster_lookup, stream=None) -> int:
    """Answer one completion request on stdout. Always exit 0: kubectl ignores the output of a failed helper.

    `build_parser` is cli.build_parser, handed down by the dispatcher (nothing below cli.py imports it)."""
    try:
        result = complete(build_parser(), words, lookup)
    except Exception:  # noqa: BLE001 - completion must never break the user's command line
        result = Completion([], DIRECTIVE_ERROR)
    (stream or sys.stdout).write(result.render())
    return 0


def script(shell: str) -> str:
    return {"bash": _BASH, "zsh": _ZSH, "fish": _FISH}[shell]


# The scripts ask the command being completed (the first word on the line) for candidates, so they work for
# `kubectl-vmmove` wherever it is installed; kubectl's own completion goes through kubectl_complete-vmmove instead.
# Directive bits: 1 error, 2 no space, 4 no file names, 8 file extensions, 16 directories, 32 keep order.

_BASH = r"""# bash completion for kubectl-vmmove; generated by `kubectl vmmove completion bash`.
__kubectl_vmmove_complete() {
    local cur words cword
    if declare -F _get_comp_words_by_ref >/dev/null 2>&1; then
        _get_comp_words_by_ref -n =: cur words cword
    else
        # Without bash-completion, glue back the words bash split at "=" (--output=yaml arrives as 3 words).
        words=()
        local i w
        for ((i = 0; i <= COMP_CWORD; i++)); do
            w=${COMP_WORDS[i]}
            if (( ${#words[@]} > 1 )) && [[ $w == "=" || ${words[${#words[@]}-1]} == -*= ]]; then
                words[${#words[@]}-1]+=$w
            else
                words+=("$w")
            fi
        done
        cword=$(( ${#words[@]} - 1 ))
        cur=${words[cword]}
    fi
    local out
    out=$("${words[0]}" completion __complete "${words[@]:1:cword-1}" "$cur" 2>/dev/null) || return 0
    local directive=${out##*:}
    [[ $directive =~ ^[0-9]+$ ]] || return 0
    local -a candidates=()
    local line
    while IFS= read -r line; do
        [[ -n $line ]] && candidates+=("${line%%$'\t'*}")
    done <<<"${out%:*}"
    COMPREPLY=()
    (( directive & 1 )) && return 0
    (( directive & 2 )) && compopt -o nospace 2>/dev/null
    (( directive & 32 )) && compopt -o nosort 2>/dev/null
    if (( directive & 8 )); then
        local IFS='|'
        local pattern="@(${candidates[*]})"
        unset IFS
        if declare -F _filedir >/dev/null 2>&1; then
            _filedir "$pattern"
        else
            COMPREPLY=($(compgen -f -X "!*.$pattern" -- "$cur") $(compgen -d -- "$cur"))
        fi
        return 0
    fi
    if (( directive & 16 )); then
        if declare -F _filedir >/dev/null 2>&1; then _filedir -d; else COMPREPLY=($(compgen -d -- "$cur")); fi
        return 0
    fi
    if (( ${#candidates[@]} == 0 )); then
        (( directive & 4 )) && compopt +o default 2>/dev/null
        return 0
    fi
    # bash splits --flag=value at "=": only the part after the last "=" is the word being replaced.
    if [[ $cur == *=* && $COMP_WORDBREAKS == *=* ]]; then
        local strip=${cur%=*}=
        candidates=("${candidates[@]#"$strip"}")
    fi
    COMPREPLY=("${candidates[@]}")
}
complete -o default -F __kubectl_vmmove_complete kubectl-vmmove
"""

_ZSH = r"""#compdef kubectl-vmmove
# zsh completion for kubectl-vmmove; generated by `kubectl vmmove completion zsh`.
__kubectl_vmmove() {
    local cur=${words[CURRENT]} out directive line
    out=$(${words[1]} completion __complete "${(@)words[2,CURRENT-1]}" "$cur" 2>/dev/null) || return 1
    local -a lines described
    lines=("${(@f)out}")
    directive=${lines[-1]#:}
    [[ $directive == <-> ]] || return 1
    lines=("${(@)lines[1,-2]}")
    (( directive & 1 )) && return 1
    if (( directive & 8 )); then
        _files -g "*.(${(j:|:)lines})"
        return
    fi
    if (( directive & 16 )); then
        _files -/
        return
    fi
    for line in "${lines[@]}"; do
        [[ -z $line ]] && continue
        if [[ $line == *$'\t'* ]]; then
            described+=("${${line%%$'\t'*}//:/\\:}:${line#*$'\t'}")
        else
            described+=("${line//:/\\:}")
        fi
    done
    local -a opts
    (( directive & 2 )) && opts+=(-S '')
    if (( ${#described} )); then
        if (( directive & 32 )); then
            _describe -V -t values 'values' described "${opts[@]}"
        else
            _describe -t values 'values' described "${opts[@]}"
        fi
    elif (( !(directive & 4) )); then
        _files
    fi
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    __kubectl_vmmove "$@"
else
    compdef __kubectl_vmmove kubectl-vmmove
fi
"""

_FISH = r"""# fish completion for kubectl-vmmove; generated by `kubectl vmmove completion fish`.
function __kubectl_vmmove_complete
    set -l tokens (commandline -opc)
    set -l current (commandline -ct)
    set -l command $tokens[1]
    set -e tokens[1]
    set -l out ($command completion __complete $tokens $current 2>/dev/null)
    or return
    set -l directive (string replace -r '^:' '' -- $out[-1])
    string match -qr '^[0-9]+$' -- $directive; or return
    set -e out[-1]
    test (math "bitand($directive, 1)") -ne 0; and return
    if test (math "bitand($directive, 8)") -ne 0
        for ext in $out
            __fish_complete_suffix $current .$ext
        end
        return
    end
    if test (math "bitand($directive, 16)") -ne 0
        __fish_complete_directories $current
        return
    end
    if test (count $out) -eq 0
        test (math "bitand($directive, 4)") -eq 0; and __fish_complete_path $current
        return
    end
    printf '%s\n' $out
end
complete -c kubectl-vmmove -f -a '(__kubectl_vmmove_complete)'
"""
