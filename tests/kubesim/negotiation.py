"""Content negotiation: which representation (plain JSON, Table, PartialObjectMetadata) an Accept header asks for."""


def accept_options(header):
    """Parsed media-type alternatives of an Accept header, in order: (type, params dict)."""
    out = []
    for part in (header or "").split(","):
        bits = [b.strip() for b in part.split(";")]
        params = {}
        for b in bits[1:]:
            k, _, v = b.partition("=")
            params[k.strip()] = v.strip()
        out.append((bits[0], params))
    return out


def wanted_shape(accept):
    """'table', 'partial' or 'json': the first alternative of the Accept header kubesim can serve."""
    for mtype, params in accept_options(accept):
        if mtype not in ("application/json", "*/*", "application/*"):
            continue
        as_ = params.get("as")
        if not as_:
            return "json"
        if params.get("g") == "meta.k8s.io" and as_ == "Table":
            return "table"
        if params.get("g") == "meta.k8s.io" and as_ in ("PartialObjectMetadata", "PartialObjectMetadataList"):
            return "partial"
    return "json"
