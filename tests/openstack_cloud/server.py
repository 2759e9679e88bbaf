"""A fake OpenStack cloud on 127.0.0.1: Keystone, Nova, Neutron, Cinder and Glance over real HTTP.

openstacksdk talks to it exactly as to a real cloud: it authenticates with POST /v3/auth/tokens, reads the service
catalog from the token, runs version discovery on every endpoint, then calls the APIs. The server follows the
services' conventions the exporter depends on: microversion headers (nova, cinder), server-side page limits with
`next` links in each service's own style, admin-only filters (all_tenants, all_projects, user_id), policy 403s for
non-admin tokens (identity listings, other projects' quotas) and what each role may see.
"""

import copy
import datetime
import json
import socket
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from . import cloud as c

NOVA_MAX = "2.100"
CINDER_MAX = "3.70"
REGION = "RegionOne"


class HttpError(Exception):
    def __init__(self, status, message, body=None, headers=None):
        super().__init__(message)
        self.status = status
        self.body = body
        self.headers = headers or {}


def _forbidden(action):
    return HttpError(403, action, {"error": {"code": 403, "title": "Forbidden", "message":
                                             f"You are not authorized to perform the requested action: {action}."}})


def _version_tuple(text):
    major, minor = text.split(".")
    return int(major), int(minor)


class Context:
    """Who a token belongs to."""

    def __init__(self, user, project, roles):
        self.user = user
        self.project = project
        self.roles = roles

    @property
    def is_admin(self):
        return "admin" in self.roles


class FakeOpenStack:
    """Start with `start()` (or as a context manager); `auth_url` is Keystone's unversioned URL.

    Options: `page_size` is every service's maximum page (like nova's osapi_max_limit), so listings page even when
    the client asks for more; `services` limits the catalog; `fip_port_forwardings_inline` mimics neutron with or
    without the floating-ip-port-forwarding-detail extension; `own_project_readable` False is keystone's older
    policy where a member may not GET its own project; `address_groups_extension` False is neutron before Wallaby
    (no /v2.0/address-groups); `faults` maps a path fragment to the HTTP status to answer
    every matching request with, or to a list of answers (a status, or a (status, headers) pair such as
    (429, {"Retry-After": "7"})) given to the next matching requests one each, after which the path answers
    normally again: a cloud under load that recovers.
    """

    def __init__(self, cloud=None, page_size=2,
                 services=("identity", "compute", "network", "volumev3", "image"), fip_port_forwardings_inline=False,
                 own_project_readable=True, address_groups_extension=True, faults=None):
        self.cloud = cloud or c.build_cloud()
        self.page_size = page_size
        self.services = services
        self.fip_port_forwardings_inline = fip_port_forwardings_inline
        self.own_project_readable = own_project_readable
        self.address_groups_extension = address_groups_extension
        self.faults = {fragment: list(answer) if isinstance(answer, list) else answer
                       for fragment, answer in (faults or {}).items()}
        self._faults_lock = threading.Lock()
        self.requests = []
        self.tokens = {}
        self._httpd = None
        self._thread = None

    # lifecycle -----------------------------------------------------------------------------------------------------
    def start(self):
        handler = type("Handler", (_Handler,), {"fake": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name="fake-openstack",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join()
            self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def auth_url(self):
        return f"{self.url}/identity"

    def next_fault(self, path):
        """The injected error for this request, if any; a listed fault is used up by the request it answers."""
        with self._faults_lock:
            for fragment, answer in self.faults.items():
                if fragment not in path:
                    continue
                if isinstance(answer, list):
                    if not answer:
                        continue
                    answer = answer.pop(0)
                status, headers = answer if isinstance(answer, tuple) else (answer, {})
                return HttpError(status, f"injected fault for {fragment}", headers=headers)
        return None

    def calls(self, path_part, method="GET"):
        """The recorded requests whose path contains `path_part`."""
        return [r for r in self.requests if path_part in r["path"] and r["method"] == method]

    # keystone tokens -----------------------------------------------------------------------------------------------
    def issue_token(self, user, project):
        roles = self._roles_of(user["id"], project["id"]) if project else []
        token = uuid.uuid4().hex
        self.tokens[token] = Context(user, project, roles)
        return token, self.tokens[token]

    def _roles_of(self, user_id, project_id):
        names = {r["id"]: r["name"] for r in self.cloud.roles}
        groups = {c.GROUP_ADMINS: [c.USER_ADMIN], c.GROUP_NONADMINS: [c.USER_DEMO]}
        found = []
        for ra in self.cloud.role_assignments:
            scope = ra["scope"].get("project", {}).get("id")
            actor = ra.get("user", {}).get("id")
            members = groups.get(ra.get("group", {}).get("id"), [])
            if scope == project_id and (actor == user_id or user_id in members):
                found.append(names[ra["role"]["id"]])
        return sorted(set(found))

    def catalog(self, project_id):
        base = self.url
        urls = {
            "identity": ("keystone", f"{base}/identity"),
            "compute": ("nova", f"{base}/compute/v2.1"),
            "network": ("neutron", f"{base}/networking"),
            "volumev3": ("cinderv3", f"{base}/volume/v3/{project_id}"),
            "image": ("glance", f"{base}/image"),
        }
        entries = []
        for service_type in self.services:
            name, url = urls[service_type]
            entries.append({
                "type": service_type, "name": name, "id": uuid.uuid5(uuid.NAMESPACE_URL, service_type).hex,
                "endpoints": [{"id": uuid.uuid5(uuid.NAMESPACE_URL, service_type + iface).hex, "interface": iface,
                               "region": REGION, "region_id": REGION, "url": url}
                              for iface in ("public", "internal", "admin")],
            })
        return entries


class _Handler(BaseHTTPRequestHandler):
    fake = None  # set on the per-server subclass
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # Headers and body go out in two writes; without NODELAY, Nagle plus delayed ACKs add 40 ms per request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_HEAD(self):
        self._dispatch("HEAD")

    # plumbing ------------------------------------------------------------------------------------------------------
    def _dispatch(self, method):
        parts = urlsplit(self.path)
        self.query = parse_qs(parts.query, keep_blank_values=True)
        path = parts.path.rstrip("/") or "/"
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        record = {"method": method, "path": path, "query": self.query,
                  "microversion": self.headers.get("OpenStack-API-Version"), "status": None}
        self.fake.requests.append(record)
        try:
            fault = self.fake.next_fault(path)
            if fault is not None:
                raise fault
            status, body, headers = self._route(method, path, raw)
        except HttpError as err:
            status, headers = err.status, dict(err.headers)
            body = err.body or {"error": {"code": err.status, "message": str(err)}}
        record["status"] = status
        payload = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(payload)

    def _context(self):
        ctx = self.fake.tokens.get(self.headers.get("X-Auth-Token"))
        if ctx is None:
            raise HttpError(401, "The request you have made requires authentication.",
                            {"error": {"code": 401, "title": "Unauthorized",
                                       "message": "The request you have made requires authentication."}})
        return ctx

    def _param(self, name, default=None):
        values = self.query.get(name)
        return values[-1] if values else default

    def _route(self, method, path, raw):
        for prefix, handler in (("/identity", self._keystone), ("/compute", self._nova), ("/networking", self._neutron),
                                ("/volume", self._cinder), ("/image", self._glance)):
            if path == prefix or path.startswith(prefix + "/"):
                return handler(method, path[len(prefix):] or "/", raw)
        raise HttpError(404, f"no such path {path}")

    def _paged(self, items, link_key, rel_path, style):
        """Page like the services do: the client's `limit` capped by the server maximum, `marker` is an id.

        style "full": a next link whenever the page is full (nova, cinder, glance), so an exact multiple costs one
        more, empty, request. style "more": a next link only when more items follow (neutron).
        """
        limit = min(int(self._param("limit", self.fake.page_size)), self.fake.page_size)
        start = 0
        marker = self._param("marker")
        if marker is not None:
            ids = [i["id"] for i in items]
            if marker not in ids:
                raise HttpError(400, f"marker [{marker}] not found")
            start = ids.index(marker) + 1
        page = items[start:start + limit]
        more = start + limit < len(items)
        show_next = (len(page) == limit) if style == "full" else more
        links = None
        if show_next and page:
            query = {k: v for k, v in self.query.items() if k not in ("limit", "marker")}
            query.update({"limit": [str(limit)], "marker": [page[-1]["id"]]})
            links = f"{rel_path}?{urlencode(query, doseq=True)}"
        return page, links

    # keystone ------------------------------------------------------------------------------------------------------
    def _v3_doc(self):
        return {"id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
                "links": [{"rel": "self", "href": f"{self.fake.url}/identity/v3/"}],
                "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]}

    def _keystone(self, method, path, raw):
        if path == "/":
            return 300, {"versions": {"values": [self._v3_doc()]}}, {}
        if path == "/v3":
            return 200, {"version": self._v3_doc()}, {}
        if path == "/v3/auth/tokens" and method == "POST":
            return self._authenticate(json.loads(raw or b"{}"))
        ctx = self._context()
        cl = self.fake.cloud
        base = f"{self.fake.url}/identity/v3"
        if path == "/v3/auth/projects":
            mine = {p for p in (r["scope"].get("project", {}).get("id") for r in cl.role_assignments
                                if r.get("user", {}).get("id") == ctx.user["id"]) if p}
            return 200, {"projects": [self._clean(p) for p in cl.projects if p["id"] in mine],
                         "links": {"self": f"{base}/auth/projects", "next": None, "previous": None}}, {}
        if path == "/v3/auth/domains":
            return 200, {"domains": [], "links": {"self": f"{base}/auth/domains", "next": None, "previous": None}}, {}
        if path.startswith("/v3/projects/"):
            pid = path.split("/")[3]
            project = next((p for p in cl.projects if p["id"] == pid), None)
            if not ctx.is_admin and (project is None or project["id"] != ctx.project["id"]
                                     or not self.fake.own_project_readable):
                raise _forbidden("identity:get_project")
            if project is None:
                raise HttpError(404, f"Could not find project: {pid}.")
            return 200, {"project": self._clean(project)}, {}
        if path.startswith("/v3/domains/"):
            did = path.split("/")[3]
            if not ctx.is_admin:
                raise _forbidden("identity:get_domain")
            domain = next((d for d in cl.domains if d["id"] == did), None)
            if domain is None:
                raise HttpError(404, f"Could not find domain: {did}.")
            return 200, {"domain": self._clean(domain)}, {}
        collections = {"/v3/projects": ("projects", cl.projects, "identity:list_projects"),
                       "/v3/domains": ("domains", cl.domains, "identity:list_domains"),
                       "/v3/users": ("users", cl.users, "identity:list_users"),
                       "/v3/groups": ("groups", cl.groups, "identity:list_groups"),
                       "/v3/roles": ("roles", cl.roles, "identity:list_roles"),
                       "/v3/role_assignments": ("role_assignments", cl.role_assignments,
                                                "identity:list_role_assignments")}
        if path not in collections:
            raise HttpError(404, f"no such identity path {path}")
        key, items, action = collections[path]
        if not ctx.is_admin:
            raise _forbidden(action)
        items = [self._clean(i) for i in items]
        if path == "/v3/role_assignments":
            items = self._filter_assignments(items)
        for name in ("name", "domain_id"):
            if self._param(name) is not None:
                items = [i for i in items if i.get(name) == self._param(name)]
        return 200, {key: items, "links": {"self": base + path[3:], "next": None, "previous": None}}, {}

    def _filter_assignments(self, items):
        cl = self.fake.cloud
        scope_project = self._param("scope.project.id")
        if scope_project:
            items = [i for i in items if i["scope"].get("project", {}).get("id") == scope_project]
        if self._param("include_names") not in (None, "0", "false", "False"):
            names = {"user": {u["id"]: u for u in cl.users}, "group": {g["id"]: g for g in cl.groups},
                     "role": {r["id"]: r for r in cl.roles}, "project": {p["id"]: p for p in cl.projects},
                     "domain": {d["id"]: d for d in cl.domains}}
            domains = names["domain"]

            def named(kind, ref):
                obj = names[kind].get(ref["id"])
                if obj is None:
                    return ref
                out = dict(ref, name=obj["name"])
                if obj.get("domain_id") and kind != "domain":
                    dom = domains.get(obj["domain_id"], {"name": obj["domain_id"]})
                    out["domain"] = {"id": obj["domain_id"], "name": dom["name"]}
                return out

            for item in items:
                for actor in ("user", "group"):
                    if actor in item:
                        item[actor] = named(actor, item[actor])
                item["role"] = named("role", item["role"])
                for kind in ("project", "domain"):
                    if kind in item["scope"]:
                        item["scope"][kind] = named(kind, item["scope"][kind])
        return items

    @staticmethod
    def _clean(obj):
        return {k: copy.deepcopy(v) for k, v in obj.items() if not k.startswith("_")}

    def _authenticate(self, body):
        cl = self.fake.cloud
        auth = body.get("auth", {})
        identity = auth.get("identity", {})
        methods = identity.get("methods", [])
        user, project = None, None
        unauthorized = HttpError(401, "The request you have made requires authentication.",
                                 {"error": {"code": 401, "title": "Unauthorized",
                                            "message": "The request you have made requires authentication."}})
        if "password" in methods:
            spec = identity["password"]["user"]
            if "id" in spec:
                user = next((u for u in cl.users if u["id"] == spec["id"]), None)
            else:
                user = cl.user_by_name(spec.get("name"))
                domain = spec.get("domain", {})
                if user and domain and domain.get("id", user["domain_id"]) != user["domain_id"]:
                    user = None
                if user and domain.get("name") and domain["name"] != self._domain_name(user["domain_id"]):
                    user = None
            if user is None or c.PASSWORDS.get(user["name"]) != spec.get("password"):
                raise unauthorized
        elif "application_credential" in methods:
            spec = identity["application_credential"]
            found = c.APP_CREDENTIALS.get(spec.get("id"))
            if not found or found[0] != spec.get("secret"):
                raise unauthorized
            user = next(u for u in cl.users if u["id"] == found[1])
            project = cl.project(found[2])
        elif "token" in methods:
            ctx = self.fake.tokens.get(identity["token"].get("id"))
            if ctx is None:
                raise unauthorized
            user, project = ctx.user, ctx.project
        else:
            raise unauthorized
        scope = auth.get("scope") or {}
        if "project" in scope:
            spec = scope["project"]
            project = cl.project(spec.get("id") or spec.get("name"))
            if project is None:
                raise unauthorized
        elif project is None and user.get("_default_project_id"):
            project = cl.project(user["_default_project_id"])
        token, ctx = self.fake.issue_token(user, project)
        if project and not ctx.roles:
            raise unauthorized
        now = datetime.datetime.now(datetime.timezone.utc)
        body = {"token": {
            "methods": methods, "audit_ids": [uuid.uuid4().hex[:22]],
            "expires_at": (now + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
            "issued_at": now.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
            "user": {"id": user["id"], "name": user["name"], "password_expires_at": None,
                     "domain": {"id": user["domain_id"], "name": self._domain_name(user["domain_id"])}},
        }}
        if project:
            body["token"].update({
                "project": {"id": project["id"], "name": project["name"],
                            "domain": {"id": project["domain_id"], "name": self._domain_name(project["domain_id"])}},
                "is_domain": False,
                "roles": [{"id": r["id"], "name": r["name"]} for r in cl.roles if r["name"] in ctx.roles],
                "catalog": self.fake.catalog(project["id"]),
            })
        return 201, body, {"X-Subject-Token": token}

    def _domain_name(self, domain_id):
        return next((d["name"] for d in self.fake.cloud.domains if d["id"] == domain_id), domain_id)

    # nova ----------------------------------------------------------------------------------------------------------
    def _nova_version_doc(self):
        return {"id": "v2.1", "status": "CURRENT", "version": NOVA_MAX, "min_version": "2.1",
                "updated": "2013-07-23T11:33:21Z", "links": [{"rel": "self", "href": f"{self.fake.url}/compute/v2.1/"}],
                "media-types": [{"base": "application/json",
                                 "type": "application/vnd.openstack.compute+json;version=2.1"}]}

    def _microversion(self, service, maximum, minimum):
        header = self.headers.get("OpenStack-API-Version", "")
        if header.startswith(service + " "):
            value = header.split(" ", 1)[1].strip()
        else:
            value = self.headers.get("X-OpenStack-Nova-API-Version", minimum) if service == "compute" else minimum
        if value == "latest":
            value = maximum
        if not (_version_tuple(minimum) <= _version_tuple(value) <= _version_tuple(maximum)):
            raise HttpError(406, f"Version {value} is not supported by the API. Minimum is {minimum} and maximum "
                                 f"is {maximum}.")
        return _version_tuple(value)

    def _nova(self, method, path, raw):
        if path == "/":
            return 200, {"versions": [self._nova_version_doc()]}, {}
        if path == "/v2.1":
            return 200, {"version": self._nova_version_doc()}, {}
        ctx = self._context()
        mv = self._microversion("compute", NOVA_MAX, "2.1")
        cl = self.fake.cloud
        path = path[len("/v2.1"):]
        base = f"{self.fake.url}/compute/v2.1"
        if path == "/servers/detail":
            servers = cl.servers
            if self._param("all_tenants") not in (None, "0", "false", "False"):
                if not ctx.is_admin:
                    raise _forbidden("os_compute_api:servers:detail:get_all_tenants")
                if self._param("project_id"):
                    servers = [s for s in servers if s["tenant_id"] == self._param("project_id")]
            else:
                servers = [s for s in servers if s["tenant_id"] == ctx.project["id"]]
            page, next_link = self._paged(servers, "servers_links", f"{base}/servers/detail", "full")
            out = [self._server_view(s, ctx, mv) for s in page]
            body = {"servers": out}
            if next_link:
                body["servers_links"] = [{"href": next_link, "rel": "next"}]
            return 200, body, {}
        if path == "/flavors/detail":
            flavors = cl.flavors
            if not (ctx.is_admin and self._param("is_public", "").lower() in ("none", "")):
                flavors = [f for f in flavors if f["os-flavor-access:is_public"]
                           or ctx.project["id"] in cl.flavor_access.get(f["id"], [])]
            page, next_link = self._paged(flavors, "flavors_links", f"{base}/flavors/detail", "full")
            body = {"flavors": [self._flavor_view(f, mv) for f in page]}
            if next_link:
                body["flavors_links"] = [{"href": next_link, "rel": "next"}]
            return 200, body, {}
        if path.startswith("/flavors/") and path.endswith("/os-extra-specs"):
            fid = path.split("/")[2]
            flavor = next((f for f in cl.flavors if f["id"] == fid), None)
            if flavor is None:
                raise HttpError(404, f"Flavor {fid} could not be found.")
            return 200, {"extra_specs": dict(flavor["extra_specs"])}, {}
        if path == "/os-keypairs" or path.startswith("/os-keypairs/"):
            user_id = self._param("user_id") if mv >= (2, 10) else None  # older nova ignores user_id
            if user_id and user_id != ctx.user["id"]:
                if not ctx.is_admin:
                    raise _forbidden("os_compute_api:os-keypairs:index")
            user_id = user_id or ctx.user["id"]
            mine = [k for k in cl.keypairs if k["user_id"] == user_id]
            if path == "/os-keypairs":
                return 200, {"keypairs": [{"keypair": {"name": k["name"], "public_key": k["public_key"],
                                                       "fingerprint": k["fingerprint"], "type": k["type"]}}
                                          for k in mine]}, {}
            name = path.split("/", 2)[2]
            key = next((k for k in mine if k["name"] == name), None)
            if key is None:
                raise HttpError(404, f"Keypair {name} not found for user {user_id}")
            return 200, {"keypair": copy.deepcopy(key)}, {}
        if path == "/os-server-groups":
            groups = cl.server_groups
            if not (ctx.is_admin and self._param("all_projects") not in (None, "0", "false", "False")):
                groups = [g for g in groups if g["project_id"] == ctx.project["id"]]
            # limit/offset paging without links, capped at the server's maximum like nova's max_limit
            offset = int(self._param("offset", 0))
            limit = min(int(self._param("limit", self.fake.page_size)), self.fake.page_size)
            return 200, {"server_groups": copy.deepcopy(groups[offset:offset + limit])}, {}
        if path.startswith("/os-quota-sets/"):
            pid = path.split("/")[2]
            if pid != ctx.project["id"] and not ctx.is_admin:
                raise _forbidden("os_compute_api:os-quota-sets:show")
            return 200, {"quota_set": copy.deepcopy(cl.quotas[pid]["compute"])}, {}
        raise HttpError(404, f"no such compute path {path}")

    def _server_view(self, server, ctx, mv):
        out = self._clean(server)
        if not ctx.is_admin:
            for key in [k for k in out if k.startswith("OS-EXT-SRV-ATTR:")] + ["host_status"]:
                out.pop(key, None)
        if mv < (2, 47) and "flavor" in out:
            fid = server["_flavor_id"]
            out["flavor"] = {"id": fid, "links": [{"href": f"http://openstack.example.com/flavors/{fid}",
                                                   "rel": "bookmark"}]}
        return out

    def _flavor_view(self, flavor, mv):
        out = self._clean(flavor)
        if mv < (2, 61):
            out.pop("extra_specs", None)
        if mv < (2, 75) and out.get("swap") == 0:
            out["swap"] = ""
        return out

    # neutron -------------------------------------------------------------------------------------------------------
    def _neutron(self, method, path, raw):
        doc = {"id": "v2.0", "status": "CURRENT", "links": [{"href": f"{self.fake.url}/networking/v2.0/",
                                                            "rel": "self"}]}
        if path == "/":
            return 200, {"versions": [doc]}, {}
        if path == "/v2.0":
            return 200, {"resources": []}, {}
        ctx = self._context()
        cl = self.fake.cloud
        path = path[len("/v2.0"):]
        base = f"{self.fake.url}/networking/v2.0"
        if path.startswith("/quotas/"):
            pid = path.split("/")[2]
            if pid != ctx.project["id"] and not ctx.is_admin:
                raise _forbidden("get_quota")
            return 200, {"quota": copy.deepcopy(cl.quotas[pid]["network"])}, {}
        if path.startswith("/floatingips/") and path.endswith("/port_forwardings"):
            fid = path.split("/")[2]
            fip = next((f for f in cl.floating_ips if f["id"] == fid), None)
            if fip is None or not (ctx.is_admin or fip["project_id"] == ctx.project["id"]):
                raise HttpError(404, f"Floating IP {fid} could not be found.")
            return 200, {"port_forwardings": copy.deepcopy(cl.port_forwardings.get(fid, []))}, {}
        own = ctx.project["id"]
        external = {n["id"] for n in cl.networks if n["shared"] or n["router:external"]}
        collections = {
            "/networks": ("networks", cl.networks, lambda n: n["project_id"] == own or n["id"] in external),
            "/subnets": ("subnets", cl.subnets, lambda s: s["project_id"] == own or s["network_id"] in external),
            "/ports": ("ports", cl.ports, lambda p: p["project_id"] == own),
            "/security-groups": ("security_groups", cl.security_groups, lambda g: g["project_id"] == own),
            "/floatingips": ("floatingips", cl.floating_ips, lambda f: f["project_id"] == own),
        }
        if self.fake.address_groups_extension:
            collections["/address-groups"] = ("address_groups", cl.address_groups, lambda a: a["project_id"] == own)
        if path not in collections:
            raise HttpError(404, f"no such network path {path}")
        key, items, visible = collections[path]
        if not ctx.is_admin:
            items = [i for i in items if visible(i)]
        for name in ("project_id", "tenant_id", "id", "network_id", "device_id"):
            wanted = self.query.get(name)
            if wanted:
                items = [i for i in items if i.get(name) in wanted]
        items = [self._clean(i) for i in items]
        if path == "/floatingips" and not self.fake.fip_port_forwardings_inline:
            for item in items:
                item.pop("port_forwardings", None)
        page, next_link = self._paged(items, f"{key}_links", f"{base}{path}", "more")
        body = {key: page}
        if next_link:
            body[f"{key}_links"] = [{"href": next_link, "rel": "next"}]
        return 200, body, {}

    # cinder --------------------------------------------------------------------------------------------------------
    def _cinder(self, method, path, raw):
        doc = {"id": "v3.0", "status": "CURRENT", "version": CINDER_MAX, "min_version": "3.0",
               "updated": "2023-08-31T00:00:00Z", "links": [{"href": f"{self.fake.url}/volume/v3/", "rel": "self"}],
               "media-types": [{"base": "application/json", "type": "application/vnd.openstack.volume+json;version=3"}]}
        if path in ("/", "/v3"):
            return 200, {"versions": [doc]}, {}
        ctx = self._context()
        self._microversion("volume", CINDER_MAX, "3.0")
        cl = self.fake.cloud
        segments = path.split("/")  # ['', 'v3', project, ...]
        if len(segments) < 4 or segments[1] != "v3":
            raise HttpError(404, f"no such volume path {path}")
        url_project = segments[2]
        if url_project != ctx.project["id"] and not ctx.is_admin:
            raise _forbidden("volume:get_all")
        rest = "/" + "/".join(segments[3:])
        base = f"{self.fake.url}/volume/v3/{url_project}"
        if rest == "/volumes/detail":
            volumes = cl.volumes
            if ctx.is_admin and self._param("all_tenants") not in (None, "0", "false", "False"):
                if self._param("project_id"):
                    volumes = [v for v in volumes if v["os-vol-tenant-attr:tenant_id"] == self._param("project_id")]
            else:
                volumes = [v for v in volumes if v["os-vol-tenant-attr:tenant_id"] == ctx.project["id"]]
            if not ctx.is_admin:
                volumes = [{k: v for k, v in vol.items() if not k.startswith("os-vol-host-attr")} for vol in volumes]
            page, next_link = self._paged([self._clean(v) for v in volumes], "volumes_links",
                                          f"{base}/volumes/detail", "full")
            body = {"volumes": page}
            if next_link:
                body["volumes_links"] = [{"href": next_link, "rel": "next"}]
            return 200, body, {}
        if rest == "/types":
            return 200, {"volume_types": copy.deepcopy(cl.volume_types)}, {}
        if rest.startswith("/os-quota-sets/"):
            pid = rest.split("/")[2]
            if pid != ctx.project["id"] and not ctx.is_admin:
                raise _forbidden("volume_extension:quotas:show")
            return 200, {"quota_set": copy.deepcopy(cl.quotas[pid]["volume"])}, {}
        raise HttpError(404, f"no such volume path {path}")

    # glance --------------------------------------------------------------------------------------------------------
    def _glance(self, method, path, raw):
        versions = {"versions": [
            {"id": "v2.16", "status": "CURRENT", "links": [{"rel": "self", "href": f"{self.fake.url}/image/v2/"}]},
            {"id": "v2.0", "status": "SUPPORTED", "links": [{"rel": "self", "href": f"{self.fake.url}/image/v2/"}]},
        ]}
        if path in ("/", "/versions", "/v2"):
            return 300 if path == "/" else 200, versions, {}
        ctx = self._context()
        cl = self.fake.cloud

        def visible(image):
            return (ctx.is_admin or image["visibility"] == "public" or image["owner"] == ctx.project["id"]
                    or ctx.project["id"] in image.get("_members", []))

        if path == "/v2/images":
            images = [i for i in cl.images if visible(i)]
            if self._param("owner"):
                images = [i for i in images if i["owner"] == self._param("owner")]
            page, next_link = self._paged([self._clean(i) for i in images], "next", "/v2/images", "full")
            body = {"images": page, "schema": "/v2/schemas/images", "first": "/v2/images"}
            if next_link:
                body["next"] = next_link
            return 200, body, {}
        if path.startswith("/v2/images/"):
            iid = path.split("/")[3]
            image = next((i for i in cl.images if i["id"] == iid and visible(i)), None)
            if image is None:
                raise HttpError(404, f"No image found with ID {iid}")
            return 200, self._clean(image), {}
        raise HttpError(404, f"no such image path {path}")
