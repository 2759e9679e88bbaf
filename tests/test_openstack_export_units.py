"""The exporter's pure pieces: secrets, paging links, references, flags, output choices, the private file write."""

import datetime
import io
import os
import stat

import pytest

from kubectl_vmmove.errors import UsageError
from kubectl_vmmove.openstack.cmd import export as cli_export
from kubectl_vmmove.openstack.export import collect as export
from kubectl_vmmove.openstack.export import connection, retries


def test_secret_fields_are_removed_at_any_depth_and_user_data_is_kept():
    server = {"id": "s1", "adminPass": "p", "OS-EXT-SRV-ATTR:user_data": "I2Nsb3VkLWNvbmZpZw==",
              "metadata": {"password": "x", "role": "db"},
              "attachments": [{"connection_info": {"auth_password": "chap"}, "device": "/dev/vdb"}]}
    assert export.without_secrets(server) == {
        "id": "s1", "OS-EXT-SRV-ATTR:user_data": "I2Nsb3VkLWNvbmZpZw==", "metadata": {"role": "db"},
        "attachments": [{"device": "/dev/vdb"}]}
    assert server["adminPass"] == "p"  # the input is left alone


@pytest.mark.parametrize("body,key,link", [
    ({"servers": [], "servers_links": [{"rel": "next", "href": "http://n/v2.1/servers/detail?marker=a"}]},
     "servers", "http://n/v2.1/servers/detail?marker=a"),
    ({"images": [], "next": "/v2/images?marker=b", "first": "/v2/images"}, "images", "/v2/images?marker=b"),
    ({"users": [], "links": {"next": "http://k/v3/users?page=2", "self": "x"}}, "users", "http://k/v3/users?page=2"),
    ({"ports": [], "ports_links": [{"rel": "previous", "href": "http://n/ports?marker=z"}]}, "ports", None),
    ({"projects": [], "links": {"next": None}}, "projects", None),
])
def test_next_link_in_each_services_style(body, key, link):
    assert export.next_link(body, key) == link


def test_query_of_a_next_link_keeps_repeated_parameters():
    assert export.query_of("https://internal:9696/v2.0/ports?limit=2&marker=m&id=a&id=b") == {
        "limit": "2", "marker": "m", "id": ["a", "b"]}


def test_image_references_skip_boot_from_volume_servers():
    servers = [{"name": "bfv", "image": ""}, {"name": "web", "image": {"id": "img-1"}}]
    volumes = [{"name": "root", "volume_image_metadata": {"image_id": "img-2"}}, {"name": "blank"}]
    assert export.image_refs(servers, volumes) == {"img-1": "server web", "img-2": "volume root"}
    assert export.missing_ids({"img-1", "img-2", None}, [{"id": "img-2"}]) == ["img-1"]


def test_port_references():
    ports = [{"network_id": "n1", "fixed_ips": [{"subnet_id": "s1"}], "security_groups": ["g1"]}]
    fips = [{"floating_network_id": "ext"}]
    assert export.port_refs(ports, fips) == {"networks": {"n1", "ext"}, "subnets": {"s1"},
                                             "security_groups": {"g1"}}


def test_document_shape_and_timestamp():
    doc = export.document({"servers": [{"id": "a", "adminPass": "x"}], "quotas": {"p": {"compute": {}}}}, ["w"],
                          cloud="c", auth_url="https://k:5000/v3", region="r", project="demo", all_projects=False,
                          now=datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc))
    assert doc["metadata"]["exportedAt"] == "2026-01-02T03:04:05Z"
    assert doc["metadata"]["scope"] == {"project": "demo", "allProjects": False}
    assert doc["resources"]["servers"] == [{"id": "a"}]
    assert doc["resources"]["quotas"] == {"p": {"compute": {}}}
    assert set(doc["resources"]) == set(export.RESOURCE_KEYS) | {"quotas"}
    assert doc["warnings"] == ["w"]


def test_only_given_flags_reach_openstacksdk():
    values = {"os_cloud": "mycloud", "os_password": "pw", "os_region_name": None, "insecure": None}
    assert connection.sdk_argv(values) == ["--os-cloud", "mycloud", "--os-password", "pw"]
    assert connection.sdk_argv({"insecure": True}) == ["--insecure"]


@pytest.mark.parametrize("path,flag,expected", [
    ("-", None, "yaml"), ("out.yaml", None, "yaml"), ("OUT.JSON", None, "json"), ("out.yaml", "json", "json")])
def test_output_format(path, flag, expected):
    assert cli_export.output_format(path, flag) == expected


def test_request_timeout():
    assert cli_export.timeout_seconds(None) is None
    assert cli_export.timeout_seconds("0") is None
    assert cli_export.timeout_seconds("30") == 30
    assert cli_export.timeout_seconds("2m") == 120
    with pytest.raises(UsageError):
        cli_export.timeout_seconds("soon")


def test_private_write_is_0600_whatever_the_umask(tmp_path):
    target = tmp_path / "doc.yaml"
    old = os.umask(0)
    try:
        cli_export.write_private(str(target), "kind: OpenStackExport\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert target.read_text() == "kind: OpenStackExport\n"
    assert os.listdir(tmp_path) == ["doc.yaml"]


def test_progress_lines(tmp_path):
    with open(tmp_path / "err", "w+") as stream:
        progress = cli_export.Progress(stream)
        progress("servers", 2, False)
        progress("servers", 4, True)
        progress("flavors", 1, True)
        stream.seek(0)
        assert stream.read() == "servers: 4\nflavors: 1\n"


def test_progress_updates_in_place_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    progress = cli_export.Progress(stream)
    progress("servers", 500, False)
    progress("servers", 730, True)
    assert stream.getvalue() == "\rservers: 500\rservers: 730\n"


@pytest.mark.parametrize("version,expected", [("2.10", True), ("2.9", False), ("2.100", True), ("latest", True),
                                              (None, False), ("3.70", True)])
def test_microversion_at_least(version, expected):
    assert export.microversion_at_least(version, (2, 10)) is expected


@pytest.mark.parametrize("header,seconds", [
    (None, None), ("7", 7.0), ("0", 0.0), ("1.5", 1.5), ("-3", 0.0), ("soon", None),
    ("Wed, 21 Oct 2026 07:28:30 GMT", 30.0),  # an HTTP-date, 30 s after "now"
    ("Wed, 21 Oct 2026 07:27:00 GMT", 0.0),  # already past
])
def test_retry_after_as_seconds_or_http_date(header, seconds):
    now = datetime.datetime(2026, 10, 21, 7, 28, 0, tzinfo=datetime.timezone.utc)
    assert retries.retry_after_seconds(header, now) == seconds


def test_the_retry_policy_is_bounded():
    policy = retries.default_policy()
    assert policy.attempts == 5
    assert policy.delay(0, 7200.0) == 60.0
    assert all(policy.delay(attempt, None) <= 20.0 for attempt in range(10))
