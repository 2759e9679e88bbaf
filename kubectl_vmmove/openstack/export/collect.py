"""Read a live OpenStack cloud into one `OpenStackExport` document of raw API objects.

Every object is stored exactly as the REST API returns it (un-enveloped), never as openstacksdk's resource classes
render it: those rename fields (`OS-EXT-SRV-ATTR:user_data` becomes `user_data`, `os-flavor-access:is_public`
becomes `is_public`) and drop the ones a class does not declare, while the converter reads the raw shapes, the same
ones users save with curl. So the calls go through the SDK's service proxies as plain HTTP requests: the proxies
still give us the SDK's authentication, service catalog, version discovery and microversion headers.

Lists follow the services' `next` links. Parts the credentials may not read (identity as a non-admin, another
user's key pairs, another project's quotas) become warnings in the document; the export itself only fails when
it cannot authenticate, cannot list servers, or a service answers with an error other than 403.

User data (`OS-EXT-SRV-ATTR:user_data`, base64, admin only) IS exported: the converter turns it into cloud-init.
Fields that hold secrets (admin passwords, application credential secrets, volume connection info) are removed.
"""

import datetime
import logging
from typing import Callable, Dict, Iterable, List, Optional
from urllib.parse import parse_qs, quote, urlsplit

from ... import __version__
from ...errors import UsageError, UserError
from . import retries

log = logging.getLogger("kubectl_vmmove.openstack")

API_VERSION = "vmmove.io/v1alpha1"
KIND = "OpenStackExport"

RESOURCE_KEYS = (
    "servers", "flavors", "images", "volumes", "volume_types", "networks", "subnets", "ports", "security_groups",
    "address_groups", "floating_ips", "keypairs", "server_groups", "projects", "domains", "users", "groups", "role_assignments", "roles",
)

# Keys whose values are credentials wherever they appear. `connection_info` carries iSCSI CHAP passwords.
SECRET_KEYS = frozenset({"adminPass", "admin_pass", "password", "secret", "auth_password", "connection_info",
                         "auth_token", "token"})

# Service names as openstacksdk's Connection exposes its proxies.
PROXIES = {"compute": "compute", "network": "network", "volume": "block_storage", "image": "image",
           "identity": "identity"}

ID_BATCH = 40  # ids per `?id=a&id=b` request: keeps URLs far below the usual 8 KiB limit


class Forbidden(Exception):
    """The credentials may not read this (HTTP 403)."""


class NotFound(Exception):
    """HTTP 404: the object or the API extension does not exist."""


class NoService(Exception):
    """The service is not in the token's catalog."""


# ---------------------------------------------------------------------------------------------------- pure helpers


def without_secrets(obj):
    """A copy of `obj` without any SECRET_KEYS, at any depth."""
    if isinstance(obj, dict):
        return {k: without_secrets(v) for k, v in obj.items() if k not in SECRET_KEYS}
    if isinstance(obj, list):
        return [without_secrets(v) for v in obj]
    return obj


def next_link(body: dict, key: str) -> Optional[str]:
    """The `next` link of one page, in each service's style: `<key>_links` (nova, cinder, neutron), a top-level
    `next` string (glance) or `links.next` (keystone)."""
    for link in body.get(f"{key}_links") or []:
        if isinstance(link, dict) and link.get("rel") == "next" and link.get("href"):
            return link["href"]
    if isinstance(body.get("next"), str) and body["next"]:
        return body["next"]
    links = body.get("links")
    if isinstance(links, dict) and isinstance(links.get("next"), str) and links["next"]:
        return links["next"]
    return None


def query_of(link: str) -> dict:
    """The query parameters of a next link. The link's host and path are not reused: behind proxies services
    often advertise an internal host, and glance's links are relative to the unversioned root."""
    return {k: (v if len(v) > 1 else v[0]) for k, v in parse_qs(urlsplit(link).query, keep_blank_values=True).items()}


def microversion_at_least(version: Optional[str], minimum) -> bool:
    """True when `version` ("2.79", "latest", None = the service's base version) is at least `minimum` (2, 10)."""
    if version == "latest":
        return True
    try:
        return tuple(int(part) for part in str(version).split(".")) >= tuple(minimum)
    except ValueError:
        return False


def missing_ids(wanted: Iterable, have: Iterable[dict]) -> List[str]:
    present = {obj.get("id") for obj in have}
    return sorted({w for w in wanted if w and w not in present})


def image_refs(servers: List[dict], volumes: List[dict]) -> Dict[str, str]:
    """image id -> who uses it (for warnings). A boot-from-volume server's `image` is "" (not an object)."""
    refs: Dict[str, str] = {}
    for server in servers:
        image = server.get("image")
        if isinstance(image, dict) and image.get("id"):
            refs.setdefault(image["id"], f"server {server.get('name') or server.get('id')}")
    for volume in volumes:
        meta = volume.get("volume_image_metadata") or {}
        if meta.get("image_id"):
            refs.setdefault(meta["image_id"], f"volume {volume.get('name') or volume.get('id')}")
    return refs


def port_refs(ports: List[dict], floating_ips: List[dict]) -> Dict[str, set]:
    """Network, subnet and security group ids the exported ports and floating IPs point at."""
    networks: set = set()
    subnets: set = set()
    groups: set = set()
    for port in ports:
        networks.add(port.get("network_id"))
        subnets.update(ip.get("subnet_id") for ip in port.get("fixed_ips") or [])
        groups.update(port.get("security_groups") or [])
    for fip in floating_ips:
        networks.add(fip.get("floating_network_id"))
    networks.discard(None)
    subnets.discard(None)
    return {"networks": networks, "subnets": subnets, "security_groups": groups}


def document(resources: dict, warnings: List[str], cloud: str, auth_url: str, region: str,
             project: Optional[str], all_projects: bool, now: datetime.datetime) -> dict:
    """The export document (the contract with `openstack convert`)."""
    out = {key: without_secrets(resources.get(key) or []) for key in RESOURCE_KEYS}
    out["quotas"] = without_secrets(resources.get("quotas") or {})
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {
            "exportedAt": now.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "cloud": cloud,
            "authUrl": auth_url,
            "region": region,
            "scope": {"project": None if all_projects else project, "allProjects": bool(all_projects)},
            "tool": f"kubectl-vmmove {__version__}",
        },
        "warnings": list(warnings),
        "resources": out,
    }


def _error_text(response) -> str:
    try:
        body = response.json()
    except ValueError:
        return (response.text or "").strip()[:200]
    if isinstance(body, dict):
        if isinstance(body.get("error"), dict):
            return str(body["error"].get("message") or body["error"])
        for value in body.values():  # nova {"forbidden": {...}}, neutron {"NeutronError": {...}}
            if isinstance(value, dict) and value.get("message"):
                return str(value["message"])
    return str(body)[:200]


# ---------------------------------------------------------------------------------------------------- raw API access


class RawApi:
    """Plain GETs through the SDK's proxies, with paging, retries of 429/5xx answers and errors classified."""

    def __init__(self, conn, chunk_size: int = 500, retry=None):
        self.conn = conn
        self.chunk_size = chunk_size
        self.retry = retry or retries.default_policy()
        self._microversions: Dict[str, Optional[str]] = {}

    def _proxy(self, service):
        from keystoneauth1 import exceptions as ks
        from openstack import exceptions as sdk

        try:
            return getattr(self.conn, PROXIES[service])
        except (ks.EndpointNotFound, sdk.ServiceDisabledException):
            raise NoService(service) from None

    def microversion(self, service: str) -> Optional[str]:
        """The microversion to ask for: the one the user configured (--os-compute-api-version, clouds.yaml),
        else the newest the endpoint offers, so servers carry their embedded flavor, tags and the rest."""
        if service in self._microversions:
            return self._microversions[service]
        from keystoneauth1 import exceptions as ks

        configured = self.conn.config.get_api_version("block-storage" if service == "volume" else service)
        if configured and "." in str(configured) and str(configured) not in ("2.0", "3.0"):
            chosen = str(configured)
        else:
            from openstack import exceptions as sdk

            try:
                data = self._proxy(service).get_endpoint_data()
            except (ks.EndpointNotFound, sdk.ServiceDisabledException):
                raise NoService(service) from None
            chosen = None
            if data is not None and data.max_microversion:
                chosen = "%d.%d" % tuple(data.max_microversion)
        self._microversions[service] = chosen
        return chosen

    def get(self, service: str, path: str, params=None, microversion=None) -> dict:
        from keystoneauth1 import exceptions as ks
        from openstack import exceptions as sdk

        proxy = self._proxy(service)
        kwargs = {"params": params or {}, "raise_exc": False}
        if microversion:
            kwargs["microversion"] = microversion
        attempt = 0
        while True:
            attempt += 1
            try:
                response = proxy.get(path, **kwargs)
            except (ks.EndpointNotFound, sdk.ServiceDisabledException):
                raise NoService(service) from None
            except (ks.ConnectFailure, ks.ConnectTimeout) as err:
                raise UserError(f"{service}: cannot reach the {service} service for GET {path}: {err}; check the "
                                "service catalog endpoints and the network") from None
            if response.status_code not in retries.RETRIABLE_STATUSES or attempt >= self.retry.attempts:
                break
            wait = self.retry.delay(attempt - 1, retries.retry_after_seconds(response.headers.get("Retry-After")))
            log.info("GET %s answered HTTP %d (%s); retry %d of %d in %.1fs", response.url, response.status_code,
                     _error_text(response), attempt, self.retry.attempts - 1, wait)
            self.retry.sleep(wait)
        if response.status_code == 403:
            raise Forbidden(_error_text(response))
        if response.status_code == 404:
            raise NotFound(_error_text(response))
        if response.status_code == 401:
            raise UserError(f"{service}: GET {path} was refused (HTTP 401): the token was not accepted; "
                            "authenticate again") from None
        if not 200 <= response.status_code < 300:
            tries = f" (tried {attempt} times)" if attempt > 1 else ""
            raise UserError(f"{service}: GET {response.url} failed with HTTP {response.status_code}{tries}: "
                            f"{_error_text(response)}")
        try:
            return response.json()
        except ValueError:
            raise UserError(f"{service}: GET {response.url} did not return JSON") from None

    def list(self, service: str, path: str, key: str, params=None, microversion=None,
             on_page: Optional[Callable[[int], None]] = None, limit=True) -> List[dict]:
        query = dict(params or {})
        if limit and self.chunk_size:
            query.setdefault("limit", self.chunk_size)
        items: List[dict] = []
        markers: set = set()
        while True:
            body = self.get(service, path, query, microversion)
            batch = body.get(key) or []
            items.extend(batch)
            if on_page:
                on_page(len(items))
            link = next_link(body, key)
            if not link or not batch:
                return items
            query = query_of(link)
            marker = query.get("marker")
            if marker in markers:  # a service that repeats itself must not loop forever
                return items
            markers.add(marker)


# ---------------------------------------------------------------------------------------------------- the exporter


class Scope:
    """Which project(s) to export: the token's project, another project (admin), or all projects (admin)."""

    def __init__(self, project_id: Optional[str], project_name: Optional[str], all_projects: bool, own: bool):
        self.project_id = project_id
        self.project_name = project_name
        self.all_projects = all_projects
        self.own = own  # the token's own project: no admin filters needed


class Exporter:
    def __init__(self, conn, chunk_size: int = 500, progress: Optional[Callable[[str, int, bool], None]] = None,
                 retry=None):
        self.api = RawApi(conn, chunk_size, retry)
        self.conn = conn
        self.progress = progress or (lambda name, count, done: None)
        self.warnings: List[str] = []
        self.resources: Dict[str, object] = {}

    def warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)

    def _list(self, name, service, path, key, params=None, microversion=None, limit=True):
        items = self.api.list(service, path, key, params, microversion,
                              on_page=lambda n: self.progress(name, n, False), limit=limit)
        return items

    def _done(self, name):
        value = self.resources.get(name) or []
        self.progress(name, len(value), True)

    # scope ---------------------------------------------------------------------------------------------------------
    def resolve_scope(self, project: Optional[str], all_projects: bool) -> Scope:
        if project and all_projects:
            raise UsageError("--project and --all-projects cannot be used together")
        access = self.conn.session.auth.get_access(self.conn.session)
        token_id, token_name = access.project_id, access.project_name
        if all_projects:
            return Scope(token_id, token_name, True, False)
        if not project or project in (token_id, token_name):
            if not token_id:
                raise UserError("the token is not scoped to a project: give --os-project-name or --os-project-id "
                                "(or project_name in clouds.yaml), --project, or --all-projects")
            return Scope(token_id, token_name, False, True)
        try:
            found = self.api.get("identity", f"/projects/{project}")["project"]
            return Scope(found["id"], found.get("name"), False, False)
        except (NotFound, Forbidden):
            pass
        try:
            matches = self.api.get("identity", "/projects", {"name": project}).get("projects") or []
        except Forbidden:
            raise UserError(f"cannot look up project {project!r}: these credentials may not list projects; give its "
                            "id, or scope the token to it with --os-project-name") from None
        except NotFound:
            matches = []
        if not matches:
            raise UserError(f"project {project!r} not found (or not visible to these credentials); list projects "
                            "with 'openstack project list'")
        if len(matches) > 1:
            domains = ", ".join(sorted(m.get("domain_id", "?") for m in matches))
            raise UserError(f"project name {project!r} is ambiguous (domains {domains}); give the project id")
        return Scope(matches[0]["id"], matches[0].get("name"), False, False)

    # the whole run -------------------------------------------------------------------------------------------------
    def export(self, scope: Scope) -> dict:
        self.scope = scope
        self._identity()
        self._compute()
        self._volumes()
        self._images()
        self._network()
        self._keypairs()
        self._quotas()
        return self.resources

    def _optional(self, name, what, fetch, fallback=None, report=True):
        """Run one collection; a 403 becomes a warning (and the fallback, if any), a missing service too."""
        try:
            self.resources[name] = fetch()
        except Forbidden:
            self.resources[name] = []
            try:
                if fallback is None:
                    raise Forbidden(what)
                self.resources[name], note = fallback()
                self.warn(note)
            except Forbidden:
                self.warn(what)
        except NotFound as err:
            self.resources[name] = []
            self.warn(f"{name}: not found ({err}); {name} not exported")
        except NoService as err:
            self.resources[name] = []
            self.warn(f"{err}: the service catalog has no {err} endpoint; {name} not exported")
        if report:
            self._done(name)

    # identity ------------------------------------------------------------------------------------------------------
    def _identity(self):
        s = self.scope

        def forbidden(what):
            verb = "listing" if s.all_projects or what != "domains" else "reading"
            return f"identity: {verb} {what} is forbidden for these credentials; {what} not exported"

        def projects():
            if s.all_projects:
                return self._list("projects", "identity", "/projects", "projects", limit=False)
            return [self.api.get("identity", f"/projects/{s.project_id}")["project"]]

        def own_projects():
            mine = self._list("projects", "identity", "/auth/projects", "projects", limit=False)
            if not s.all_projects:
                mine = [p for p in mine if p.get("id") == s.project_id]
            return mine, ("identity: listing projects is forbidden for these credentials; exported the projects "
                          "the token may use (GET /v3/auth/projects)")

        self._optional("projects", forbidden("projects"), projects, own_projects)

        def domains():
            if s.all_projects:
                return self._list("domains", "identity", "/domains", "domains", limit=False)
            ids = sorted({p.get("domain_id") for p in self.resources["projects"] if p.get("domain_id")})
            return [self.api.get("identity", f"/domains/{d}")["domain"] for d in ids]

        self._optional("domains", forbidden("domains"), domains)
        self._optional("roles", forbidden("roles"), lambda: self._list("roles", "identity", "/roles", "roles",
                                                                         limit=False))
        params = {"include_names": "true"}
        if not s.all_projects:
            params["scope.project.id"] = s.project_id
        self._optional("role_assignments", forbidden("role assignments"),
                       lambda: self._list("role_assignments", "identity", "/role_assignments", "role_assignments",
                                          params, limit=False))
        assignments = self.resources["role_assignments"]
        for kind, plural in (("user", "users"), ("group", "groups")):
            def actors(kind=kind, plural=plural):
                found = self._list(plural, "identity", f"/{plural}", plural, limit=False)
                if s.all_projects:
                    return found
                # A project export carries the people who hold roles on it, not the whole cloud's directory.
                wanted = {a.get(kind, {}).get("id") for a in assignments}
                return [a for a in found if a.get("id") in wanted]

            self._optional(plural, forbidden(plural), actors)

    # compute -------------------------------------------------------------------------------------------------------
    def _compute(self):
        s = self.scope
        mv = self.api.microversion("compute")
        params = {}
        if not s.own:
            params["all_tenants"] = "True"
        if not s.all_projects and not s.own:
            params["project_id"] = s.project_id
        try:
            self.resources["servers"] = self._list("servers", "compute", "/servers/detail", "servers", params, mv)
        except Forbidden:
            what = "all projects" if s.all_projects else f"project {s.project_name or s.project_id}"
            raise UserError(f"listing the servers of {what} is forbidden for these credentials (it needs the admin "
                            "role); export the token's own project (drop --all-projects/--project) or use admin "
                            "credentials") from None
        except NoService:
            raise UserError("the service catalog has no compute endpoint; check the region (--os-region-name) and "
                            "the interface (--os-interface)") from None
        self._done("servers")

        def flavors():
            found = self._list("flavors", "compute", "/flavors/detail", "flavors", {"is_public": "None"}, mv)
            for flavor in found:
                if "extra_specs" not in flavor:  # before microversion 2.61 they are a separate call
                    try:
                        flavor["extra_specs"] = self.api.get(
                            "compute", f"/flavors/{flavor['id']}/os-extra-specs", microversion=mv)["extra_specs"]
                    except (Forbidden, NotFound):
                        self.warn(f"compute: extra specs of flavor {flavor.get('name')} are not readable; "
                                  "exported without them")
            return found

        self._optional("flavors", "compute: listing flavors is forbidden for these credentials; flavors not "
                                  "exported (servers still carry their embedded flavor)", flavors)

        def server_groups():
            query = {"all_projects": "True"} if not s.own else {}
            found, seen = [], set()
            while True:  # os-server-groups pages by offset (no links), capped by the server's max_limit
                page_query = dict(query, offset=len(found)) if found else query
                batch = self.api.get("compute", "/os-server-groups", page_query, mv).get("server_groups") or []
                fresh = [g for g in batch if g.get("id") not in seen]
                if not fresh:
                    break
                seen.update(g.get("id") for g in fresh)
                found.extend(fresh)
                self.progress("server_groups", len(found), False)
            if not s.all_projects:
                found = [g for g in found if g.get("project_id") in (None, s.project_id)]
            return found

        self._optional("server_groups", "compute: listing server groups is forbidden for these credentials; "
                                        "server groups not exported", server_groups)

    def _keypairs(self):
        """Nova lists only the caller's key pairs; an admin reads another user's with ?user_id= (2.10+).

        Only the servers' owners (and the caller) are asked: convert turns a key pair into a Secret only for a
        server that names it, so other users' key pairs would be reported as dropped, at the price of a nova call
        per user (and per key) of the project, thousands on a large cloud."""
        s = self.scope
        mv = self.api.microversion("compute")
        me = self.conn.session.auth.get_access(self.conn.session).user_id
        owners = {srv.get("user_id") for srv in self.resources["servers"] if srv.get("key_name")}
        owners.discard(None)
        if s.own or s.all_projects:
            owners.add(me)
        users = {u.get("id"): u.get("name") for u in self.resources.get("users") or []}
        found = []
        for user_id in sorted(owners):
            params = {} if user_id == me else {"user_id": user_id}
            if params and not microversion_at_least(mv, (2, 10)):
                # Below 2.10 nova ignores user_id and would answer with the caller's own key pairs.
                self.warn(f"compute: the key pairs of user {users.get(user_id) or user_id} need compute "
                          "microversion 2.10 or later to read; their public keys are not exported")
                continue
            try:
                listed = self.api.list("compute", "/os-keypairs", "keypairs", params, mv)
                for item in listed:
                    name = (item.get("keypair") or item).get("name")
                    found.append(self.api.get("compute", f"/os-keypairs/{quote(name, safe='')}", params,
                                              mv)["keypair"])
                    self.progress("keypairs", len(found), False)
            except Forbidden:
                self.warn(f"compute: reading the key pairs of user {users.get(user_id) or user_id} is forbidden for "
                          "these credentials (nova lists only your own; admin can read others'); their public keys "
                          "are not exported")
            except NotFound:
                continue
        self.resources["keypairs"] = found
        self._done("keypairs")

    # block storage -------------------------------------------------------------------------------------------------
    def _volumes(self):
        s = self.scope
        try:
            mv = self.api.microversion("volume")
        except NoService:
            mv = None
        params = {}
        if not s.own:
            params["all_tenants"] = "1"
        if not s.all_projects and not s.own:
            params["project_id"] = s.project_id
        self._optional("volumes", "volume: listing volumes is forbidden for these credentials; volumes not exported",
                       lambda: self._list("volumes", "volume", "/volumes/detail", "volumes", params, mv))
        self._optional("volume_types", "volume: listing volume types is forbidden for these credentials; volume "
                                       "types not exported",
                       lambda: self._list("volume_types", "volume", "/types", "volume_types", {"is_public": "None"},
                                          mv, limit=False))

    # image ---------------------------------------------------------------------------------------------------------
    def _images(self):
        s = self.scope

        def images():
            params = {"visibility": "all"} if s.all_projects else {"owner": s.project_id}
            found = self._list("images", "image", "/images", "images", params)
            # Images the exported servers and volumes came from, wherever they are owned (public, shared).
            refs = image_refs(self.resources["servers"], self.resources["volumes"])
            for image_id in missing_ids(refs, found):
                try:
                    found.append(self.api.get("image", f"/images/{image_id}"))
                except (NotFound, Forbidden):
                    self.warn(f"image: image {image_id} used by {refs[image_id]} no longer exists or is not visible "
                              "to these credentials; not exported")
                self.progress("images", len(found), False)
            return found

        self._optional("images", "image: listing images is forbidden for these credentials; images not exported",
                       images)

    # network -------------------------------------------------------------------------------------------------------
    def _network(self):
        s = self.scope
        params = {} if s.all_projects else {"project_id": s.project_id}
        collections = (("networks", "/networks", "networks"), ("subnets", "/subnets", "subnets"),
                       ("ports", "/ports", "ports"), ("security_groups", "/security-groups", "security_groups"),
                       ("floating_ips", "/floatingips", "floatingips"))
        lists = {}
        for name, path, key in collections:
            lists[name] = (path, key)
            self._optional(name, f"network: listing {name.replace('_', ' ')} is forbidden for these credentials; "
                                 f"{name.replace('_', ' ')} not exported",
                           lambda path=path, key=key, name=name: self._list(name, "network", path, key, params),
                           report=False)
        if not s.all_projects:
            self._network_references(lists)
        self._address_groups(params)
        self._port_forwardings()
        for name, _, _ in collections:
            self._done(name)
        self._done("address_groups")

    def _network_references(self, lists):
        """Shared and external networks (and their subnets), and remote security groups, are owned by other
        projects; fetch the ones this project's ports and floating IPs use so every reference resolves."""
        refs = port_refs(self.resources["ports"], self.resources["floating_ips"])
        for group in self.resources["security_groups"]:
            refs["security_groups"].update(r.get("remote_group_id") for r in group.get("security_group_rules") or [])
        refs["security_groups"].discard(None)
        for name in ("networks", "subnets", "security_groups"):
            path, key = lists[name]
            wanted = missing_ids(refs[name], self.resources[name])
            for start in range(0, len(wanted), ID_BATCH):
                try:
                    self.resources[name] += self.api.list("network", path, key, {"id": wanted[start:start + ID_BATCH]})
                except (Forbidden, NotFound):
                    pass
            unresolved = missing_ids(refs[name], self.resources[name])
            if unresolved:
                self.warn(f"network: {len(unresolved)} {name.replace('_', ' ')} referenced by this project's ports "
                          f"or floating IPs are not visible to these credentials: {', '.join(unresolved)}")

    def _address_groups(self, params):
        """The CIDR lists `remote_address_group_id` rules allow (neutron's address-group extension, Wallaby and
        later). A neutron without it answers 404 and no rule can name one, so that is silent; a rule naming a group
        that cannot be read is a warning, since convert then drops the rule."""
        wanted = {rule.get("remote_address_group_id") for group in self.resources["security_groups"]
                  for rule in group.get("security_group_rules") or []}
        wanted.discard(None)
        try:
            found = self._list("address_groups", "network", "/address-groups", "address_groups", params)
        except NotFound:
            self.resources["address_groups"] = []
            if wanted:
                self.warn(f"network: security group rules name {len(wanted)} address groups but this cloud serves "
                          "no address-group API (GET /v2.0/address-groups answered 404); convert drops those rules")
            return
        except Forbidden:
            self.resources["address_groups"] = []
            self.warn("network: listing address groups is forbidden for these credentials; address groups not "
                      "exported" + ("; convert drops the rules that name them" if wanted else ""))
            return
        # Another project's group shared with this one (RBAC) is not in a project-filtered list; ask by id.
        missing = missing_ids(wanted, found)
        for start in range(0, len(missing), ID_BATCH):
            try:
                found += self.api.list("network", "/address-groups", "address_groups",
                                       {"id": missing[start:start + ID_BATCH]})
            except (Forbidden, NotFound):
                pass
        self.resources["address_groups"] = found
        unresolved = missing_ids(wanted, found)
        if unresolved:
            self.warn(f"network: {len(unresolved)} address groups named by security group rules are not visible to "
                      f"these credentials: {', '.join(unresolved)}; convert drops those rules")

    def _port_forwardings(self):
        """Newer neutron embeds port_forwardings in each floating IP; older ones serve them as a sub-resource."""
        for fip in self.resources["floating_ips"]:
            if "port_forwardings" in fip:
                continue
            try:
                fip["port_forwardings"] = self.api.list("network", f"/floatingips/{fip['id']}/port_forwardings",
                                                        "port_forwardings")
            except NotFound:
                # No port forwarding extension on this cloud: there are none to export.
                for other in self.resources["floating_ips"]:
                    other.setdefault("port_forwardings", [])
                return
            except Forbidden:
                fip["port_forwardings"] = []
                self.warn("network: reading floating IP port forwardings is forbidden for these credentials; "
                          "exported without them")

    # quotas --------------------------------------------------------------------------------------------------------
    def _quotas(self):
        s = self.scope
        if s.all_projects:
            project_ids = {p.get("id") for p in self.resources["projects"]}
            for server in self.resources["servers"]:
                project_ids.add(server.get("tenant_id"))
            project_ids.discard(None)
        else:
            project_ids = {s.project_id}
        calls = (("compute", "compute", "/os-quota-sets/{}", "quota_set"),
                 ("volume", "volume", "/os-quota-sets/{}", "quota_set"),
                 ("network", "network", "/quotas/{}", "quota"))
        quotas, refused = {}, set()
        for pid in sorted(project_ids):
            entry = {}
            for part, service, path, key in calls:
                if service in refused:
                    continue
                try:
                    entry[part] = self.api.get(service, path.format(pid))[key]
                except Forbidden:
                    refused.add(service)
                    self.warn(f"{service}: reading quotas is forbidden for these credentials for some projects; "
                              f"{part} quotas not exported for them")
                except (NotFound, NoService):
                    refused.add(service)
            quotas[pid] = entry
            self.progress("quotas", len(quotas), False)
        self.resources["quotas"] = quotas
        self.progress("quotas", len(quotas), True)
