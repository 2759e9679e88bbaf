"""The openstacksdk Connection, configured the way the `openstack` CLI configures it.

Precedence is openstacksdk's own, so a user's existing setup works unchanged: `--os-*` flags, then `OS_*`
environment variables, then the cloud named by `--os-cloud`/`OS_CLOUD` in clouds.yaml (+ secure.yaml; searched in
the current directory, ~/.config/openstack, /etc/openstack, or the file named by OS_CLIENT_CONFIG_FILE). The flags are
declared here statically because the verb tree is built on every start and must not import openstack; at run time
the given flags are handed to openstacksdk's own argparse integration (`OpenStackConfig.register_argparse_arguments`
then `get_one_cloud_osc(argparse=...)`), which adds the keystoneauth plugin options with their OS_* environment
defaults and merges them over clouds.yaml as the openstack CLI does.
"""

import argparse
import logging

from ...errors import UserError

# (flag, help). Every flag is stored as `os_<name>` like keystoneauth stores it, default None = "not given".
OS_FLAGS = (
    ("--os-cloud", "Named cloud in clouds.yaml (default: env OS_CLOUD)"),
    ("--os-auth-type", "Authentication type: password, v3applicationcredential, token, ... (env OS_AUTH_TYPE)"),
    ("--os-auth-url", "Keystone URL (default: env OS_AUTH_URL)"),
    ("--os-username", "User name (default: env OS_USERNAME)"),
    ("--os-user-id", "User id (default: env OS_USER_ID)"),
    ("--os-password", "Password (default: env OS_PASSWORD)"),
    ("--os-project-name", "Project to scope the token to (default: env OS_PROJECT_NAME)"),
    ("--os-project-id", "Project id to scope the token to (default: env OS_PROJECT_ID)"),
    ("--os-user-domain-name", "Domain of the user (default: env OS_USER_DOMAIN_NAME)"),
    ("--os-user-domain-id", "Domain id of the user (default: env OS_USER_DOMAIN_ID)"),
    ("--os-project-domain-name", "Domain of the project (default: env OS_PROJECT_DOMAIN_NAME)"),
    ("--os-project-domain-id", "Domain id of the project (default: env OS_PROJECT_DOMAIN_ID)"),
    ("--os-domain-name", "Domain to scope the token to (default: env OS_DOMAIN_NAME)"),
    ("--os-domain-id", "Domain id to scope the token to (default: env OS_DOMAIN_ID)"),
    ("--os-system-scope", "System scope, e.g. all (default: env OS_SYSTEM_SCOPE)"),
    ("--os-application-credential-id", "Application credential id (default: env OS_APPLICATION_CREDENTIAL_ID)"),
    ("--os-application-credential-name", "Application credential name (default: env OS_APPLICATION_CREDENTIAL_NAME)"),
    ("--os-application-credential-secret",
     "Application credential secret (default: env OS_APPLICATION_CREDENTIAL_SECRET)"),
    ("--os-token", "An existing Keystone token to authenticate with (default: env OS_TOKEN)"),
    ("--os-region-name", "Region (default: env OS_REGION_NAME)"),
    ("--os-interface", "Endpoint interface: public, internal or admin (default: env OS_INTERFACE)"),
    ("--os-cacert", "CA bundle to verify TLS certificates (default: env OS_CACERT)"),
    ("--os-cert", "Client certificate for TLS (default: env OS_CERT)"),
    ("--os-key", "Client key for TLS (default: env OS_KEY)"),
    ("--os-compute-api-version", "Nova microversion to use (default: the newest the cloud offers)"),
    ("--os-volume-api-version", "Cinder microversion to use (default: the newest the cloud offers)"),
)

# The services whose `--os-<service>-api-version` flags the SDK registers, as the openstack CLI names them.
SERVICE_KEYS = ["compute", "volume"]


def add_connection_arguments(parser) -> None:
    group = parser.add_argument_group("OpenStack connection options (as the openstack CLI)")
    for flag, text in OS_FLAGS:
        group.add_argument(flag, dest=flag[2:].replace("-", "_"), default=None, metavar="VALUE", help=text)
    group.add_argument("--insecure", action="store_true", default=None,
                       help="Do not verify the server's TLS certificate (insecure)")


def sdk_argv(values: dict) -> list:
    """The command-line words openstacksdk's parser should see for the flags the user gave (None = not given)."""
    argv = []
    for flag, _ in OS_FLAGS:
        value = values.get(flag[2:].replace("-", "_"))
        if value is not None:
            argv += [flag, value]
    if values.get("insecure"):
        argv.append("--insecure")
    return argv


def flag_values(args) -> dict:
    names = [flag[2:].replace("-", "_") for flag, _ in OS_FLAGS] + ["insecure"]
    return {name: getattr(args, name, None) for name in names}


class Target:
    """What we tried to reach, for error messages: cloud name, auth URL, region."""

    def __init__(self, cloud_region):
        auth = cloud_region.config.get("auth") or {}
        # openstacksdk names a cloud built from OS_* variables "envvars", and one built from flags alone "defaults";
        # both mean "no clouds.yaml entry", reported as "envvars" like the openstack CLI does.
        self.cloud = cloud_region.name if cloud_region.name not in ("", "defaults") else "envvars"
        self.auth_url = auth.get("auth_url") or ""
        self.region = cloud_region.region_name or ""

    def describe(self):
        where = f"cloud {self.cloud!r}" if self.cloud != "envvars" else "the OS_* environment/flags"
        return f"{where} (auth URL {self.auth_url or '<none>'})"


def load_config(values: dict):
    """openstacksdk CloudRegion for these flag values; UserError for configuration mistakes."""
    import openstack.config
    from keystoneauth1 import exceptions as ks

    argv = sdk_argv(values)
    try:
        config = openstack.config.OpenStackConfig(app_name="kubectl-vmmove")
        parser = argparse.ArgumentParser(add_help=False)
        config.register_argparse_arguments(parser, argv, service_keys=SERVICE_KEYS)
        options, _ = parser.parse_known_args(argv)
        # keystoneauth defaults --insecure to False, which would override `verify: false` or `insecure: true` in
        # clouds.yaml; the openstack CLI leaves it unset unless given.
        options.insecure = True if values.get("insecure") else None
        # --timeout is keystoneauth's (default 600) and not one of ours; kubectl's --request-timeout is applied later.
        options.timeout = None
        # get_one_cloud_osc is the openstack CLI's merge: a value given as a flag or OS_* variable beats the
        # clouds.yaml one (plain get_one lets clouds.yaml's auth section win).
        return config.get_one_cloud_osc(argparse=options)
    except openstack.exceptions.ConfigException as err:
        raise UserError(f"OpenStack configuration: {err}; check --os-cloud/OS_CLOUD and clouds.yaml "
                        "(OS_CLIENT_CONFIG_FILE, ./clouds.yaml, ~/.config/openstack/clouds.yaml)") from None
    except ks.auth_plugins.MissingRequiredOptions as err:
        missing = ", ".join("--os-" + opt.dest.replace("_", "-") for opt in err.options)
        raise UserError(f"no OpenStack credentials: {missing} missing; name a cloud from clouds.yaml with "
                        "--os-cloud (or OS_CLOUD), or give --os-auth-url and credentials (or source an openrc "
                        "file)") from None
    except ks.auth_plugins.NoMatchingPlugin as err:
        raise UserError(f"OpenStack configuration: {err}; check --os-auth-type/OS_AUTH_TYPE") from None


def connect(values: dict, timeout=None):
    """An authenticated openstacksdk Connection. Authentication happens here so its failures say what to check."""
    import openstack.connection

    from ... import __version__

    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        # keystoneauth logs a WARNING for each failed discovery attempt before raising; the error we raise says it
        # once. -v=6 keeps its log.
        logging.getLogger("keystoneauth").setLevel(logging.ERROR)
    cloud_region = load_config(values)
    if timeout:
        cloud_region.config["api_timeout"] = timeout
    target = Target(cloud_region)
    conn = openstack.connection.Connection(config=cloud_region, app_name="kubectl-vmmove", app_version=__version__)
    authenticate(conn, target)
    return conn, target


def authenticate(conn, target) -> None:
    from keystoneauth1 import exceptions as ks

    try:
        conn.session.get_token()
    except ks.http.Unauthorized:
        raise UserError(f"authentication to {target.describe()} failed (HTTP 401): check the user name, password or "
                        "application credential, and the user/project domain and project name") from None
    except ks.http.HttpError as err:
        raise UserError(f"authentication to {target.describe()} failed: {err}") from None
    except ks.SSLError as err:
        raise UserError(f"TLS error talking to {target.describe()}: {err}; pass the CA bundle with --os-cacert "
                        "(or cacert in clouds.yaml), or --insecure to skip verification") from None
    except (ks.ConnectFailure, ks.ConnectTimeout) as err:
        raise UserError(f"cannot reach the identity service of {target.describe()}: {_reason(err)}; check the auth "
                        "URL, the network and any proxy settings") from None
    except ks.DiscoveryFailure as err:
        # keystoneauth reports a refused connection during version discovery as a discovery failure.
        if "Unable to establish connection" in str(err):
            raise UserError(f"cannot reach the identity service of {target.describe()}: {_reason(err)}; check the "
                            "auth URL, the network and any proxy settings") from None
        raise UserError(f"cannot find a usable identity API at {target.describe()}: {err}; check the auth URL "
                        "(usually https://keystone.example.com:5000/v3)") from None
    except ks.auth_plugins.MissingRequiredOptions as err:
        missing = ", ".join("--os-" + opt.dest.replace("_", "-") for opt in err.options)
        raise UserError(f"no OpenStack credentials for {target.describe()}: {missing} missing") from None
    except ks.ClientException as err:
        raise UserError(f"authentication to {target.describe()} failed: {err}") from None


def _reason(err) -> str:
    text = str(err)
    # keystoneauth wraps urllib3's long repr; the last clause says what happened (refused, DNS, timeout).
    for marker in ("Connection refused", "Name or service not known", "timed out", "No route to host",
                   "Temporary failure in name resolution"):
        if marker in text:
            return marker.lower()
    return text
