"""The syntax-error texts of Go's encoding/json scanner, which the apiserver passes through in its 400 answers
(``invalid character 'n' looking for beginning of object key string``), for request bodies Python cannot parse."""

_WS = b" \t\r\n"


def _quote(c):
    ch = chr(c)
    if ch == "'":
        return "'\\''"
    if ch == '"':
        return "'\"'"
    if c < 0x20 or c == 0x7f:
        return f"'\\x{c:02x}'"
    return f"'{ch}'"


class _Error(Exception):
    pass


class _Scanner:
    def __init__(self, data):
        self.data = data
        self.i = 0

    def peek(self):
        return self.data[self.i] if self.i < len(self.data) else None

    def skip_ws(self):
        while self.peek() is not None and self.peek() in _WS:
            self.i += 1

    def need(self):
        c = self.peek()
        if c is None:
            raise _Error("unexpected end of JSON input")
        return c

    def fail(self, c, context):
        raise _Error(f"invalid character {_quote(c)} {context}")

    def value(self):
        self.skip_ws()
        c = self.need()
        if c == ord("{"):
            return self.obj()
        if c == ord("["):
            return self.arr()
        if c == ord('"'):
            return self.string()
        if c == ord("-") or ord("0") <= c <= ord("9"):
            return self.number()
        for word in (b"true", b"false", b"null"):
            if c == word[0]:
                return self.literal(word)
        self.fail(c, "looking for beginning of value")

    def literal(self, word):
        for expected in word:
            c = self.need()
            if c != expected:
                self.fail(c, f"in literal {word.decode()} (expecting {_quote(expected)})")
            self.i += 1

    def string(self):
        self.i += 1
        while True:
            c = self.need()
            self.i += 1
            if c == ord('"'):
                return
            if c == ord("\\"):
                self.need()
                self.i += 1
            elif c < 0x20:
                self.fail(c, "in string literal")

    def number(self):
        if self.peek() == ord("-"):
            self.i += 1
            c = self.need()
            if not ord("0") <= c <= ord("9"):
                self.fail(c, "in numeric literal")
        while self.peek() is not None and chr(self.peek()) in "0123456789.eE+-":
            self.i += 1

    def obj(self):
        self.i += 1
        self.skip_ws()
        if self.need() == ord("}"):
            self.i += 1
            return
        while True:
            self.skip_ws()
            c = self.need()
            if c != ord('"'):
                self.fail(c, "looking for beginning of object key string")
            self.string()
            self.skip_ws()
            c = self.need()
            if c != ord(":"):
                self.fail(c, "after object key")
            self.i += 1
            self.value()
            self.skip_ws()
            c = self.need()
            self.i += 1
            if c == ord("}"):
                return
            if c != ord(","):
                self.fail(c, "after object key:value pair")

    def arr(self):
        self.i += 1
        self.skip_ws()
        if self.need() == ord("]"):
            self.i += 1
            return
        while True:
            self.value()
            self.skip_ws()
            c = self.need()
            self.i += 1
            if c == ord("]"):
                return
            if c != ord(","):
                self.fail(c, "after array element")


def syntax_error(data):
    """Go's error text for ``data`` (bytes), or None when it is valid JSON as far as this scanner checks."""
    s = _Scanner(data)
    try:
        s.value()
        s.skip_ws()
        if s.peek() is not None:
            s.fail(s.peek(), "after top-level value")
    except _Error as e:
        return str(e)
    return None
