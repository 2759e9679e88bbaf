"""Services with node ports across a move: a node port belongs to one Service in the cluster (kube-apiserver refuses
a second holder, "provided port is already allocated"), so the copy gets a new one, the plan says so, and cleanup
gives the source's node port back to the copy once the source is gone, unless --keep-new-node-ports."""

import json

import yaml

from tests.kubesim import builders
from tests.move_run_support import journal, move_id, run_move, seed_basic

NODE_PORT = 30080


def _node_port_service(name="web-http", ns="src", node_port=NODE_PORT, selector=None):
    svc = builders.service(name, ns, selector or {"kubevirt.io/domain": "web"}, port=80, target_port=80,
                           type_="NodePort")
    svc[0]["spec"]["ports"][0]["nodePort"] = node_port
    return svc


def _node_port(sim, ns, name="web-http"):
    return sim.get("services", name, ns)["spec"]["ports"][0]["nodePort"]


def _moved(sim, capsys):
    seed_basic(sim, extra=_node_port_service())
    code, out, err = run_move(sim, capsys, "run", "-n", "src", "--to", "dst", "web", "--yes")
    assert code == 0, out + err
    return move_id(sim)


def test_plan_says_the_copy_gets_a_new_node_port_that_cleanup_gives_back(kubesim, capsys):
    seed_basic(kubesim, extra=_node_port_service())
    code, out, err = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "web", "-o", "yaml")
    assert code == 0, err
    plan = yaml.safe_load(out)
    finding = [f for f in plan["status"]["findings"] if f["code"] == "ServiceAddressChanges"
               and f.get("subject", {}).get("name") == "web-http"]
    assert finding, plan["status"]["findings"]
    assert str(NODE_PORT) in finding[0]["message"] and "cleanup gives" in finding[0]["message"]
    steps = [s for vm in plan["spec"]["vms"] for s in vm["cleanup"] if s["kind"] == "Service"
             and s["name"] == "web-http"]
    assert steps[0]["nodePorts"] == [{"name": "port-80", "port": 80, "protocol": "TCP", "nodePort": NODE_PORT}]
    created = [s for vm in plan["spec"]["vms"] for s in vm["steps"] if s["kind"] == "Service"
               and s["name"] == "web-http"]
    assert "nodePort" not in created[0]["object"]["spec"]["ports"][0]


def test_the_move_gives_the_copy_a_new_node_port_and_cleanup_gives_the_original_back(kubesim, capsys):
    mid = _moved(kubesim, capsys)
    new_port = _node_port(kubesim, "dst")
    assert new_port != NODE_PORT and _node_port(kubesim, "src") == NODE_PORT

    code, out, err = run_move(kubesim, capsys, "cleanup", mid, "--dry-run")
    assert code == 0, out + err
    assert f"would give node port(s) {NODE_PORT} back (now {new_port})" in out
    assert _node_port(kubesim, "dst") == new_port

    code, out, err = run_move(kubesim, capsys, "cleanup", mid, "--yes")
    assert code == 0, out + err
    row = [line for line in out.splitlines() if line.startswith("Service") and " dst " in line]
    assert row and f"node port(s) {NODE_PORT} given back (were {new_port})" in row[0]
    assert _node_port(kubesim, "dst") == NODE_PORT
    assert "web-http" not in [s["metadata"]["name"] for s in kubesim.list("services", "src")]
    recorded = json.loads(journal(kubesim)["data"]["move"])["cleanup"]["nodePorts"]
    assert recorded == [f"Service/web-http: node port(s) {NODE_PORT} given back (were {new_port})"]

    # Again: nothing left to do, and it says the port is back.
    code, out, err = run_move(kubesim, capsys, "cleanup", mid, "--yes")
    assert code == 0, out + err
    assert f"node port(s) {NODE_PORT} given back" in out and _node_port(kubesim, "dst") == NODE_PORT


def test_keep_new_node_ports_leaves_the_copy_on_its_new_port(kubesim, capsys):
    mid = _moved(kubesim, capsys)
    new_port = _node_port(kubesim, "dst")
    code, out, err = run_move(kubesim, capsys, "cleanup", mid, "--yes", "--keep-new-node-ports")
    assert code == 0, out + err
    assert "node port" not in out
    assert _node_port(kubesim, "dst") == new_port


def test_a_node_port_taken_by_another_service_meanwhile_stays_with_it_and_cleanup_says_so(kubesim, capsys):
    mid = _moved(kubesim, capsys)
    new_port = _node_port(kubesim, "dst")
    # The source Service goes away before cleanup, and another Service takes its port at once.
    kubesim.delete("services", "web-http", "src")
    kubesim.apply(builders.namespace("dst2") + _node_port_service("squatter", "dst2", selector={"app": "other"}))
    code, out, err = run_move(kubesim, capsys, "cleanup", mid, "--yes")
    assert code == 1
    row = [line for line in out.splitlines() if line.startswith("Service") and " dst " in line]
    assert row and f"kept new node port(s) {new_port}: {NODE_PORT} not given back, another Service holds it now" \
        in row[0]
    assert "kept new node ports" in err and f"'kubectl vmmove cleanup {mid}'" in err and "Traceback" not in err
    assert _node_port(kubesim, "dst") == new_port and _node_port(kubesim, "dst2", "squatter") == NODE_PORT


def test_plan_says_a_local_load_balancer_keeps_a_new_health_check_node_port(kubesim, capsys):
    lb = _node_port_service("web-lb")
    lb[0]["spec"].update(type="LoadBalancer", externalTrafficPolicy="Local")
    seed_basic(kubesim, extra=lb)
    health = kubesim.get("services", "web-lb", "src")["spec"]["healthCheckNodePort"]
    code, out, err = run_move(kubesim, capsys, "plan", "-n", "src", "--to", "dst", "web", "-o", "yaml")
    assert code == 0, err
    message = [f["message"] for f in yaml.safe_load(out)["status"]["findings"]
               if f["code"] == "ServiceAddressChanges" and f["subject"]["name"] == "web-lb"][0]
    assert f"health-check node port {health} cannot be given back" in message
    assert "new external address" in message and str(NODE_PORT) in message


def test_a_service_that_stays_for_other_vms_keeps_its_node_port_and_the_plan_does_not_promise_it_back():
    from kubectl_vmmove.move.planning.preflight.network import address_finding

    spec = {"type": "NodePort", "ports": [{"port": 80, "nodePort": NODE_PORT}], "externalIPs": ["192.0.2.7"]}
    stays = address_finding("web-http", spec, [NODE_PORT], "src", "dst", source_stays=True)
    assert f"node port(s) {NODE_PORT}, which the source keeps" in stays["message"]
    assert "for good" in stays["message"] and "cleanup gives" not in stays["message"]
    assert "--keep-new-node-ports" not in stays["remedy"]
    assert "externalIPs 192.0.2.7 are set on both Services" in stays["message"]
    moves = address_finding("web-http", spec, [NODE_PORT], "src", "dst")
    assert f"cleanup gives {NODE_PORT} back" in moves["message"] and "--keep-new-node-ports" in moves["remedy"]
