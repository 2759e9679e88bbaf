"""kubectl-vmmove: move KubeVirt VMs between namespaces; convert OpenStack estates to KubeVirt."""

__version__ = "0.1.0"
