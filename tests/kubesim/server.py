"""The HTTP(S) front: routing of Kubernetes API paths, authentication and impersonation, RBAC, faults, content
negotiation (JSON, Table, PartialObjectMetadata), lists with paging, watch streams, and the request log."""

import http.server
import json
import socket
import socketserver
import time
import urllib.parse

import yaml

from . import discovery, errors, gojson, managedfields, openapi, protobuf, rbac, selectors, tables
from .errors import ApiError
from .negotiation import wanted_shape
from .requestlog import Entry
from .watch import WatchStream

_PATCH_TYPES = {
    "application/merge-patch+json": "merge",
    "application/json-patch+json": "json",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
}


class Route:
    """A parsed resource path."""

    __slots__ = ("group", "version", "rtype", "namespace", "name", "subresource", "watch_path", "plural")

    def __init__(self):
        self.group = self.version = self.namespace = self.name = self.subresource = self.plural = ""
        self.rtype = None
        self.watch_path = False


MAX_REQUEST_BODY = 3 * 1024 * 1024

def parse_path(registry, path):
    """Route for a resource path, the string "discovery" for discovery paths, or None (404)."""
    parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/") if p]
    r = Route()
    if not parts:
        return None
    if parts[0] == "api":
        if len(parts) < 2:
            return "discovery"
        r.group, r.version, rest = "", parts[1], parts[2:]
    elif parts[0] == "apis":
        if len(parts) < 3:
            return "discovery"
        r.group, r.version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    if not rest:
        return "discovery"
    if rest[0] == "watch":
        r.watch_path = True
        rest = rest[1:]
    # namespaces/<ns>/<plural>[/<name>[/<sub>]] versus namespaces[/<name>[/status|finalize]]
    if rest[0] == "namespaces" and len(rest) >= 3 and not (r.group == "" and len(rest) == 3 and
                                                          rest[2] in ("status", "finalize")):
        r.namespace = rest[1]
        rest = rest[2:]
    r.plural = rest[0]
    if len(rest) > 1:
        r.name = rest[1]
    if len(rest) > 2:
        r.subresource = "/".join(rest[2:])
    r.rtype = registry.by_gvr(r.group, r.version, r.plural)
    if r.rtype is not None and r.namespace and not r.rtype.namespaced:
        return None
    if r.rtype is not None and r.rtype.key == "namespaces" and r.namespace:
        return None
    return r


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kubesim"
    sys_version = ""

    def log_message(self, fmt, *args):  # requests are recorded in the request log instead
        pass

    @property
    def sim(self):
        return self.server.sim

    # ------------------------------------------------------------------ plumbing
    def setup(self):
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (ConnectionError, OSError):
            self.close_connection = True

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _body(self):
        # Read once and keep it: an answer sent before the handler read the body (a fault, a 403) must still
        # consume it, or the next request on this keep-alive connection would start mid-body.
        if getattr(self, "_body_cache", None) is None or self._body_cache[0] is not self.headers:
            n = int(self.headers.get("Content-Length") or 0)
            self._body_cache = (self.headers, self.rfile.read(n) if n else b"")
        return self._body_cache[1]

    def _send_bytes(self, status, payload, content_type="application/json", headers=()):
        self._body()
        if not getattr(self, "logged", True):
            # Recorded before the client can read the answer, so a test that counts requests right after its last
            # response sees every one of them.
            self.log_request_entry(status)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-cache, private")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _send_json(self, status, obj, headers=()):
        self._send_bytes(status, json.dumps(obj, separators=(",", ":")).encode(), headers=headers)

    def _send_error(self, err, headers=()):
        extra = list(headers)
        if err.code == 429 or (err.code == 503 and getattr(err, "retry_after", None)):
            extra.append(("Retry-After", str(getattr(err, "retry_after", None) or 1)))
        self._send_json(err.code, err.status(), headers=extra)

    # ------------------------------------------------------------------ request entry
    def _dispatch(self, method):
        parsed = urllib.parse.urlsplit(self.path)
        self.query = {k: v[-1] for k, v in urllib.parse.parse_qs(parsed.query, keep_blank_values=True).items()}
        self.url_path = parsed.path
        self.entry_info = {"verb": "", "group": "", "resource": "", "subresource": "", "namespace": "", "name": ""}
        self.user = None
        self.fault = ""
        self.logged = False
        self.method = method
        status = 500
        try:
            status = self._handle(method, parsed.path) or 200
        except ApiError as err:
            status = err.code
            self._send_error(err)
        except (BrokenPipeError, ConnectionResetError):
            status = 499
            self.close_connection = True
        except Exception as exc:  # a kubesim bug: answer like an apiserver panic would, keep serving
            status = 500
            import traceback
            traceback.print_exc()
            try:
                self._send_error(ApiError(500, "InternalError", f"kubesim internal error: {exc!r}"))
            except OSError:
                pass
        finally:
            if not self.logged:
                self.log_request_entry(status)

    def log_request_entry(self, status):
        """Record this request (a watch does so when its stream starts, so it is visible while it runs)."""
        self.logged = True
        info = self.entry_info
        self.entry = Entry(self.method, info["verb"], info["group"], info["resource"], info["subresource"],
                           info["namespace"], info["name"], status, self.user.name if self.user else "",
                           self.url_path, self.fault)
        self.sim.requests.add(self.entry)

    def _authenticate(self):
        auth = self.headers.get("Authorization") or ""
        user = None
        if auth.lower().startswith("bearer "):
            user = self.sim.user_for_token(auth[7:].strip())
        if user is None:
            raise ApiError(401, "Unauthorized", "Unauthorized")
        imp_user = self.headers.get("Impersonate-User")
        imp_groups = self.headers.get_all("Impersonate-Group") or []
        if imp_user or imp_groups:
            if not imp_user:
                raise ApiError(500, "InternalError", "requested [{Group  " + " ".join(imp_groups) +
                               "  }] without impersonating a user")
            authz = self.sim.authorizer
            if imp_user.startswith("system:serviceaccount:"):
                _, _, sa_ns, sa_name = imp_user.split(":", 3)
                attrs = rbac.Attributes("impersonate", "", "serviceaccounts", "", sa_ns, sa_name)
            else:
                attrs = rbac.Attributes("impersonate", "", "users", "", "", imp_user)
            if not authz.allowed(user, attrs):
                raise _impersonation_forbidden(user, attrs)
            for g in imp_groups:
                gattrs = rbac.Attributes("impersonate", "", "groups", "", "", g)
                if not authz.allowed(user, gattrs):
                    raise _impersonation_forbidden(user, gattrs)
            user = rbac.UserInfo(imp_user, rbac.user_groups(imp_user, imp_groups))
        return user

    def _handle(self, method, path):
        self.user = self._authenticate()
        if method in ("POST", "PUT", "PATCH") and int(self.headers.get("Content-Length") or 0) > MAX_REQUEST_BODY:
            # The apiserver reads at most 3 MiB of a write's body (limitedReadBody).
            raise ApiError(413, "RequestEntityTooLarge", f"Request entity too large: limit is {MAX_REQUEST_BODY}")
        if path in ("/version", "/version/"):
            return self._reply(200, discovery.VERSION)
        if path in ("/healthz", "/livez", "/readyz"):
            self._send_bytes(200, b"ok", "text/plain")
            return 200
        if path.startswith("/openapi/v3"):
            return self._openapi(path)
        if path == "/openapi/v2":
            if "protobuf" in (self.headers.get("Accept") or ""):
                self._send_bytes(200, openapi.v2_protobuf(), openapi.V2_PROTOBUF_TYPE)
            else:
                self._send_bytes(200, openapi.v2_json())
            return 200
        if path.startswith("/openapi"):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        route = parse_path(self.sim.registry, path)
        if route == "discovery":
            return self._discovery(path)
        if route is None or (route.rtype is None):
            return self._page_not_found()
        return self._resource(method, route)

    def _page_not_found(self):
        """What the apiserver's last handler answers for a path no API serves (unknown group, version, resource)."""
        self._send_bytes(404, b"404 page not found\n", "text/plain; charset=utf-8",
                         headers=[("X-Content-Type-Options", "nosniff")])
        return 404

    def _reply(self, status, obj, headers=()):
        self._send_json(status, obj, headers)
        return status

    def _openapi(self, path):
        parts = [p for p in path.strip("/").split("/") if p][2:]
        reg = self.sim.registry
        if not parts:
            return self._reply(200, openapi.index(reg))
        doc = None
        if parts[0] == "api" and len(parts) == 2:
            doc = openapi.group_version_doc(reg, "", parts[1])
        elif parts[0] == "apis" and len(parts) == 3:
            doc = openapi.group_version_doc(reg, parts[1], parts[2])
        if doc is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return self._reply(200, doc)

    def _discovery(self, path):
        parts = [p for p in path.strip("/").split("/") if p]
        reg = self.sim.registry
        if parts in (["api"], ["apis"]) and discovery.wants_aggregated(self.headers.get("Accept")):
            doc = discovery.aggregated(reg, legacy=parts == ["api"])
            self._send_bytes(200, json.dumps(doc, separators=(",", ":")).encode(), discovery.AGGREGATED_V2BETA1)
            return 200
        if parts == ["api"]:
            return self._reply(200, discovery.api_versions(f"127.0.0.1:{self.sim.port}"))
        if parts == ["apis"]:
            return self._reply(200, discovery.group_list(reg))
        if parts[0] == "api" and len(parts) == 2:
            doc = discovery.resource_list(reg, "", parts[1])
        elif len(parts) == 2:
            doc = discovery.group(reg, parts[1])
        else:
            doc = discovery.resource_list(reg, parts[1], parts[2])
        if doc is None:
            return self._page_not_found()
        return self._reply(200, doc)

    # ------------------------------------------------------------------ resources
    def _verb(self, method, route):
        watch = route.watch_path or self.query.get("watch") in ("1", "true", "True")
        if method == "GET":
            if watch:
                return "watch"
            return "get" if route.name else "list"
        if method == "POST":
            return "create"
        if method == "PUT":
            return "update"
        if method == "PATCH":
            return "patch"
        if method == "DELETE":
            return "delete" if route.name else "deletecollection"
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")

    def _resource(self, method, route):
        t = route.rtype
        verb = self._verb(method, route)
        if route.name and method == "POST" and not route.subresource:
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
        self.entry_info.update(verb=verb, group=route.group, resource=route.plural, subresource=route.subresource,
                               namespace=route.namespace, name=route.name)
        # Faults come before any work, as a failing apiserver or proxy would answer.
        for fault in self.sim.faults.pick(verb, route.group, route.plural, route.name):
            if fault.kind == "latency":
                time.sleep(fault.seconds)
            elif fault.kind == "reset":
                self.fault = "reset"
                self.close_connection = True
                try:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                except OSError:
                    pass
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return 0
            else:
                self.fault = str(fault.status)
                err = _fault_error(fault)
                self._send_error(err)
                return fault.status
        if t.group == "subresources.kubevirt.io":
            return self._kubevirt_subresource(method, route)
        if t.virtual:
            if verb != "create":
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested "
                                                        "resource")
            return self._review(route, self._read_json()[0] or {})
        ns = route.namespace if t.namespaced else ""
        if t.namespaced and not ns and route.name:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if route.subresource:
            allowed = {"status"} if t.status else set()
            if t.key == "namespaces":
                allowed.add("finalize")
            if route.subresource not in allowed:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
        # A namespace's own name is its "namespace" for authorisation, as in the real request-info resolver.
        authz_ns = route.name if t.key == "namespaces" and route.name else ns
        self.sim.authorizer.check(self.user, rbac.Attributes(verb, t.group, t.plural, route.subresource, authz_ns,
                                                              route.name))
        handler = getattr(self, f"_do_{verb}")
        return handler(route, t, ns)

    def _dry_run(self):
        return self.query.get("dryRun") == "All"

    def _field_validation(self):
        return self.query.get("fieldValidation") or "Warn"

    def _manager(self):
        return self.query.get("fieldManager") or managedfields.manager_from_user_agent(self.headers.get("User-Agent"))

    def _out(self, t, obj, version):
        """An object in the requested version and shape."""
        if version != t.version:
            obj = dict(obj)
            obj["apiVersion"] = t.api_version_for(version)
        shape = wanted_shape(self.headers.get("Accept"))
        if shape == "partial":
            return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]}
        if shape == "table":
            return tables.build_table(t, [obj], self.sim.clock.now(), obj["metadata"].get("resourceVersion", ""),
                                      include_object=self.query.get("includeObject", "PartialObjectMetadata"))
        return obj

    def _warn_headers(self, warnings):
        return [("Warning", '299 - ' + json.dumps(w)) for w in warnings]

    def _do_get(self, route, t, ns):
        rec = self.sim.store.get_record(t, ns, route.name)
        if rec is None:
            raise errors.not_found(t.plural, t.group, route.name)
        shape = wanted_shape(self.headers.get("Accept"))
        if shape == "json" and route.version == t.version:
            self._send_bytes(200, rec.raw())
            return 200
        return self._reply(200, self._out(t, rec.obj, route.version))

    def _list_params(self, t):
        lreqs = selectors.parse_label_selector(self.query.get("labelSelector", ""))
        freqs = selectors.parse_field_selector(self.query.get("fieldSelector", ""), t)
        return lreqs, freqs

    def _do_list(self, route, t, ns):
        lreqs, freqs = self._list_params(t)
        try:
            limit = int(self.query.get("limit") or 0)
        except ValueError:
            limit = 0
        cont_token = self.query.get("continue") or None
        match = self.query.get("resourceVersionMatch") or ""
        want_rv = self.query.get("resourceVersion") or ""
        if match == "Exact" and want_rv and want_rv != "0" and not cont_token:
            # Simplification: a real apiserver pages an Exact list (limit/continue at that revision); kubesim
            # returns it whole. Nothing in the plugin lists with Exact and a limit.
            recs, rv = self._exact_list(t, ns, lreqs, freqs, int(want_rv))
            cont, remaining = None, None
        else:
            if want_rv and want_rv != "0" and not cont_token and want_rv.isdigit():
                current = int(self.sim.store.resource_version)
                if int(want_rv) > current:
                    # NotOlderThan a revision the store has not reached (the apiserver gives up after 3 s).
                    raise errors.too_large_resource_version(int(want_rv), current)
            recs, rv, cont, remaining = self.sim.store.list_records(t, ns or None, lreqs, freqs, limit, cont_token)
        shape = wanted_shape(self.headers.get("Accept"))
        if shape == "table":
            objs = [self._versioned(t, r.obj, route.version) for r in recs]
            table = tables.build_table(t, objs, self.sim.clock.now(), rv, cont,
                                       self.query.get("includeObject", "PartialObjectMetadata"), remaining)
            return self._reply(200, table)
        meta = {"resourceVersion": rv}
        if cont or t.custom:
            meta["continue"] = cont or ""   # custom resources are unstructured: the empty continue is kept
        if remaining:
            meta["remainingItemCount"] = remaining
        if shape == "partial":
            items = [{"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": r.obj["metadata"]}
                     for r in recs]
            return self._reply(200, {"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1",
                                     "metadata": meta, "items": items})
        head = json.dumps({"kind": f"{t.kind}List", "apiVersion": t.api_version_for(route.version),
                           "metadata": meta}, separators=(",", ":")).encode()
        if route.version == t.version:
            body = b",".join(r.raw() for r in recs)
        else:
            body = b",".join(json.dumps(self._versioned(t, r.obj, route.version), separators=(",", ":")).encode()
                             for r in recs)
        self._send_bytes(200, head[:-1] + b',"items":[' + body + b"]}")
        return 200

    def _exact_list(self, t, ns, lreqs, freqs, rv):
        """resourceVersionMatch=Exact: the objects as they were at revision ``rv``."""
        state = self.sim.store.records_at(t, rv)
        recs = [state[k] for k in sorted(state) if (not ns or k[0] == ns)
                and selectors.labels_match(lreqs, state[k].obj) and selectors.fields_match(freqs, state[k].obj)]
        return recs, str(rv)

    @staticmethod
    def _versioned(t, obj, version):
        if version == t.version:
            return obj
        obj = dict(obj)
        obj["apiVersion"] = t.api_version_for(version)
        return obj

    def _do_watch(self, route, t, ns):
        lreqs, freqs = self._list_params(t)
        if route.name:
            freqs = list(freqs) + [("metadata.name", "=", route.name)]
        return WatchStream(self, route, t, ns, lreqs, freqs).run()

    def _read_json(self):
        raw = self._body()
        ctype = (self.headers.get("Content-Type") or "application/json").split(";")[0].strip()
        if ctype == "application/vnd.kubernetes.protobuf":
            return protobuf.decode(raw), ctype
        try:
            if ctype == "application/apply-patch+yaml" or ctype.endswith("yaml"):
                return yaml.safe_load(raw.decode() or "{}"), ctype
            return json.loads(raw or b"null"), ctype
        except (ValueError, yaml.YAMLError) as e:
            raise ApiError(400, "BadRequest", f"error decoding request body: {e}") from e

    def _do_create(self, route, t, ns):
        body, _ = self._read_json()
        obj, warnings = self.sim.pipeline.create(t, ns, body, self.user, self._dry_run(), self._field_validation(),
                                                 route.version, manager=self._manager())
        return self._reply(201, self._out(t, obj, route.version), self._warn_headers(warnings))

    def _do_update(self, route, t, ns):
        body, _ = self._read_json()
        if route.subresource == "finalize":
            return self._finalize_namespace(route, body)
        obj, warnings = self.sim.pipeline.update(t, ns, route.name, body, self.user, route.subresource or None,
                                                 self._dry_run(), self._field_validation(), route.version,
                                                 manager=self._manager())
        return self._reply(200, self._out(t, obj, route.version), self._warn_headers(warnings))

    def _finalize_namespace(self, route, body):
        fins = ((body or {}).get("spec") or {}).get("finalizers") or []
        store = self.sim.store
        obj = store.patch("namespaces", None, route.name, {"spec": {"finalizers": fins}})
        if not fins and obj["metadata"].get("deletionTimestamp"):
            store.finalize_namespace(route.name)
        return self._reply(200, obj)

    def _do_patch(self, route, t, ns):
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        ptype = _PATCH_TYPES.get(ctype)
        if ptype is None:
            # No PATCH route consumes this media type: go-restful's own plain-text answer.
            self._send_bytes(415, b"415: Unsupported Media Type", "text/plain; charset=utf-8")
            return 415
        if ptype == "apply" and not self.query.get("fieldManager"):
            raise ApiError(400, "BadRequest", "PATCH, PUT or POST request with an apply patch requires a field "
                                              "manager (fieldManager query parameter)")
        if ptype in ("merge", "json", "strategic"):
            why = gojson.syntax_error(self._body())
            if why is not None:
                raise ApiError(400, "BadRequest", f"error decoding patch: {why}")
        patch, _ = self._read_json()
        obj, warnings = self.sim.pipeline.patch(t, ns, route.name, patch, ptype, self.user, route.subresource or None,
                                                self._dry_run(), self._field_validation(), route.version,
                                                manager=self._manager())
        return self._reply(200, self._out(t, obj, route.version), self._warn_headers(warnings))

    def _delete_options(self):
        raw = self._body()
        opts = {}
        if raw:
            try:
                opts = json.loads(raw) or {}
            except ValueError:
                raise ApiError(400, "BadRequest", "error decoding DeleteOptions") from None
        propagation = opts.get("propagationPolicy") or self.query.get("propagationPolicy")
        if opts.get("orphanDependents") is True or self.query.get("orphanDependents") == "true":
            propagation = "Orphan"
        if propagation not in (None, "Background", "Foreground", "Orphan"):
            raise errors.invalid("DeleteOptions", "", "", [("propagationPolicy",
                                                            f'Unsupported value: "{propagation}": supported values: '
                                                            f'"Foreground", "Background", "Orphan", "nil"')])
        dry = "All" in (opts.get("dryRun") or []) or self._dry_run()
        return propagation, opts.get("preconditions"), dry

    def _do_delete(self, route, t, ns):
        propagation, pre, dry = self._delete_options()
        obj = self.sim.pipeline.delete(t, ns, route.name, self.user, propagation, pre, dry)
        return self._reply(200, self._out(t, obj, route.version))

    def _do_deletecollection(self, route, t, ns):
        propagation, pre, dry = self._delete_options()
        lreqs, freqs = self._list_params(t)
        recs, rv, _, _ = self.sim.store.list_records(t, ns or None, lreqs, freqs)
        items = []
        for rec in recs:
            m = rec.obj["metadata"]
            try:
                items.append(self.sim.pipeline.delete(t, m.get("namespace", ""), m["name"], self.user, propagation,
                                                      None, dry))
            except ApiError as e:
                if e.code != 404:
                    raise
        return self._reply(200, {"kind": f"{t.kind}List", "apiVersion": t.api_version_for(route.version),
                                 "metadata": {"resourceVersion": self.sim.store.resource_version}, "items": items})

    # ------------------------------------------------------------------ KubeVirt subresources and reviews
    def _kubevirt_subresource(self, method, route):
        if not route.name or not route.subresource or not route.namespace:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        verb = {"GET": "get", "PUT": "update", "POST": "create", "PATCH": "patch", "DELETE": "delete"}[method]
        self.entry_info["verb"] = verb
        self.sim.authorizer.check(self.user, rbac.Attributes(verb, route.group, route.plural, route.subresource,
                                                              route.namespace, route.name))
        handler = self.sim.subresource_handler(route.group, route.version, route.plural, route.subresource)
        if handler is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if method != self.sim.subresource_method(route.group, route.plural, route.subresource):
            # virt-api registers each subresource for one method (PUT for start/stop/restart); go-restful answers
            # any other with its plain-text 405.
            self._send_bytes(405, b"405: Method Not Allowed", "text/plain; charset=utf-8")
            return 405
        raw = self._body()
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            raise ApiError(400, "BadRequest", "error decoding request body") from None
        status, payload = handler(self.sim, route.namespace, route.name, body, self.user)
        if isinstance(payload, (bytes, str)):
            self._send_bytes(status, payload.encode() if isinstance(payload, str) else payload, "text/plain")
            return status
        return self._reply(status, payload if payload is not None else {})

    def _review(self, route, body):
        t = route.rtype
        spec = (body or {}).get("spec") or {}
        authz = self.sim.authorizer
        self.sim.authorizer.check(self.user, rbac.Attributes("create", t.group, t.plural, "",
                                                              route.namespace if t.namespaced else "", ""))
        out = dict(body or {})
        out["apiVersion"] = t.api_version_for(route.version)
        out["kind"] = t.kind
        out["metadata"] = dict(out.get("metadata") or {})
        out["metadata"].setdefault("creationTimestamp", None)
        managedfields.stamp(None, out, self._manager(), "Update", out["apiVersion"], self.sim.clock.timestamp(),
                            False)
        if t.plural == "selfsubjectreviews":
            out["status"] = {"userInfo": {"username": self.user.name, "groups": list(self.user.groups)}}
            return self._reply(201, out)
        if t.plural == "selfsubjectrulesreviews":
            ns = spec.get("namespace", "")
            if not ns:
                raise ApiError(400, "BadRequest", "no namespace on request")
            rules = [r for r, _ in authz.rules_for(self.user, ns)]
            res_rules = [{k: r[k] for k in ("verbs", "apiGroups", "resources", "resourceNames") if r.get(k)}
                         for r in rules if r.get("resources")]
            non_res = [{"verbs": r["verbs"], "nonResourceURLs": r["nonResourceURLs"]} for r in rules
                       if r.get("nonResourceURLs")]
            out["status"] = {"resourceRules": res_rules, "nonResourceRules": non_res, "incomplete": False}
            return self._reply(201, out)
        if t.plural == "selfsubjectaccessreviews":
            subject = self.user
        else:
            name = spec.get("user") or ""
            subject = rbac.UserInfo(name, rbac.user_groups(name, spec.get("groups") or ()))
        ra = spec.get("resourceAttributes")
        nra = spec.get("nonResourceAttributes")
        if ra:
            if t.plural == "localsubjectaccessreviews" and ra.get("namespace", route.namespace) != route.namespace:
                raise errors.invalid(t.kind, t.group, "", [("spec.resourceAttributes.namespace",
                                                            "Invalid value: must match metadata.namespace")])
            attrs = rbac.Attributes(ra.get("verb", ""), ra.get("group", ""), ra.get("resource", ""),
                                    ra.get("subresource", ""), ra.get("namespace", ""), ra.get("name", ""))
        elif nra:
            attrs = rbac.Attributes(nra.get("verb", ""), path=nra.get("path", ""))
        else:
            # The review handler reports the internal object's (empty) kind, hence the bare ".authorization.k8s.io".
            raise errors.invalid("", t.group, "", [("spec.resourceAttributes",
                                                    'Invalid value: "null": exactly one of nonResourceAttributes or '
                                                    'resourceAttributes must be specified')])
        allowed, reason = authz.decide(subject, attrs)
        out["status"] = {"allowed": allowed}
        if reason:
            out["status"]["reason"] = reason
        return self._reply(201, out)


def _impersonation_forbidden(user, attrs):
    scope = f'in the namespace "{attrs.namespace}"' if attrs.namespace else "at the cluster scope"
    return errors.forbidden(attrs.resource, attrs.group, attrs.name,
                            f'User "{user.name}" cannot impersonate resource "{attrs.resource}" in API group '
                            f'"{attrs.group}" {scope}')


def _fault_error(fault):
    reasons = {429: ("TooManyRequests", "Too many requests, please try again later."),
               500: ("InternalError", "Internal error occurred: injected fault"),
               503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
               504: ("Timeout", "Timeout: request did not complete within the allowed duration"),
               # A resource the server does not serve (its CRD deleted), as kube-apiserver answers it.
               404: ("NotFound", "the server could not find the requested resource"),
               # What a write whose resourceVersion precondition failed gets (kube-apiserver-fidelity.md).
               409: ("Conflict", "Operation cannot be fulfilled: the object has been modified; please apply your "
                                 "changes to the latest version and try again")}
    reason, message = reasons.get(fault.status, ("InternalError", "injected fault"))
    details = {"retryAfterSeconds": fault.retry_after} if fault.retry_after else None
    err = ApiError(fault.status, reason, message, details)
    err.retry_after = fault.retry_after or (1 if fault.status == 429 else None)
    return err


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, sim, ssl_context=None, port=0):
        self.sim = sim
        self.ssl_context = ssl_context
        super().__init__(("127.0.0.1", port), Handler)

    def get_request(self):
        sock, addr = super().get_request()
        if self.ssl_context is not None:
            # The handshake happens on first read, in the handler's thread, so a slow client cannot stall accept().
            sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        pass  # connection-level errors (resets, TLS failures) are the client's business
