#!/usr/bin/python3
# k8s-crds.py - write dist/k8s/crds.yaml, the CustomResourceDefinitions of bpfd.dev/v1alpha1,
# from the one description below (the shared spec parts are written once here).
#   scripts/k8s-crds.py           rewrite dist/k8s/crds.yaml
#   scripts/k8s-crds.py --check   exit 1 if dist/k8s/crds.yaml is not what this writes
# The fields and defaults are those of the bpfd v0.3.1 operator (bpfd.dev, cluster-scoped,
# status subresource): see ../shared/notes/reference-bpfd.md 9.1.  Kubernetes 1.20 is the
# oldest server they must load on (no CEL rules).
import os
import sys

import yaml

GROUP = "bpfd.dev"
VERSION = "v1alpha1"


def label_selector(desc):
    return {
        "type": "object",
        "description": desc,
        "properties": {
            "matchLabels": {"type": "object", "additionalProperties": {"type": "string"}},
            "matchExpressions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["key", "operator"],
                    "properties": {
                        "key": {"type": "string"},
                        "operator": {"type": "string",
                                     "enum": ["In", "NotIn", "Exists", "DoesNotExist"]},
                        "values": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
        },
    }


CONDITIONS = {
    "type": "array",
    "description": "The last entry is the current state.",
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["type"],
    "items": {
        "type": "object",
        "required": ["type", "status", "lastTransitionTime", "reason", "message"],
        "properties": {
            "type": {"type": "string", "maxLength": 316},
            "status": {"type": "string", "enum": ["True", "False", "Unknown"]},
            "observedGeneration": {"type": "integer", "format": "int64", "minimum": 0},
            "lastTransitionTime": {"type": "string", "format": "date-time"},
            "reason": {"type": "string", "maxLength": 1024},
            "message": {"type": "string", "maxLength": 32768},
        },
    },
}

COMMON = {
    "bpffunctionname": {"type": "string", "minLength": 1,
                        "description": "The function of the bytecode to load."},
    "nodeselector": label_selector("The nodes to load on ({} selects every node)."),
    "bytecode": {
        "type": "object",
        "description": "Where the bytecode comes from: an OCI image or a path on the node "
                       "(exactly one).",
        "minProperties": 1,
        "maxProperties": 1,
        "properties": {
            "image": {
                "type": "object",
                "required": ["url"],
                "properties": {
                    "url": {"type": "string", "minLength": 1},
                    "imagepullpolicy": {"type": "string",
                                        "enum": ["Always", "Never", "IfNotPresent"],
                                        "default": "IfNotPresent"},
                    "imagepullsecret": {
                        "type": "object",
                        "description": "A kubernetes.io/dockerconfigjson Secret.",
                        "required": ["name", "namespace"],
                        "properties": {"name": {"type": "string"},
                                       "namespace": {"type": "string"}},
                    },
                },
            },
            "path": {"type": "string", "minLength": 1},
        },
    },
    "globaldata": {"type": "object", "description": "Global variables: name -> bytes.",
                   "additionalProperties": {"type": "string", "format": "byte"}},
    "mapownerselector": label_selector(
        "The BpfProgram whose maps this program shares (must select one per node)."),
}
COMMON_REQUIRED = ["bpffunctionname", "nodeselector", "bytecode"]

INTERFACE_SELECTOR = {
    "type": "object",
    "description": "The interfaces: a list, or the node's primary interface (the one "
                   "holding its InternalIP); exactly one.",
    "minProperties": 1,
    "maxProperties": 1,
    "properties": {
        "interfaces": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        "primarynodeinterface": {"type": "boolean"},
    },
}
PRIORITY = {"type": "integer", "format": "int32", "minimum": 0, "maximum": 1000,
            "description": "Order in the chain: lower runs first."}
DIRECTION = {"type": "string", "enum": ["ingress", "egress"]}
XDP_PROCEED = ["aborted", "drop", "pass", "tx", "redirect", "dispatcher_return"]
TC_PROCEED = ["unspec", "ok", "reclassify", "shot", "pipe", "stolen", "queued", "repeat",
              "redirect", "trap", "dispatcher_return"]


def proceedon(values, default):
    return {"type": "array", "maxItems": len(values), "default": default,
            "items": {"type": "string", "enum": values}}


def col(name, path, typ="string", priority=0, desc=None):
    c = {"name": name, "type": typ, "jsonPath": path}
    if priority:
        c["priority"] = priority
    if desc:
        c["description"] = desc
    return c


STATUS_COL = col("Status", ".status.conditions[-1:].reason",
                 desc="reason of the last condition")
AGE_COL = col("Age", ".metadata.creationTimestamp", "date")

# kind -> (extra spec properties, extra required, printer columns between name and status)
PROGRAMS = {
    "XdpProgram": ({"interfaceselector": INTERFACE_SELECTOR, "priority": PRIORITY,
                    "proceedon": proceedon(XDP_PROCEED, ["pass", "dispatcher_return"])},
                   ["interfaceselector", "priority"],
                   [col("Priority", ".spec.priority", "integer"),
                    col("Interfaces", ".spec.interfaceselector", priority=1),
                    col("ProceedOn", ".spec.proceedon", priority=1)]),
    "TcProgram": ({"interfaceselector": INTERFACE_SELECTOR, "priority": PRIORITY,
                   "direction": DIRECTION,
                   "proceedon": proceedon(TC_PROCEED, ["pipe", "dispatcher_return"])},
                  ["interfaceselector", "priority", "direction"],
                  [col("Priority", ".spec.priority", "integer"),
                   col("Direction", ".spec.direction"),
                   col("Interfaces", ".spec.interfaceselector", priority=1),
                   col("ProceedOn", ".spec.proceedon", priority=1)]),
    "TcxProgram": ({"interfaceselector": INTERFACE_SELECTOR, "priority": PRIORITY,
                    "direction": DIRECTION},
                   ["interfaceselector", "priority", "direction"],
                   [col("Priority", ".spec.priority", "integer"),
                    col("Direction", ".spec.direction"),
                    col("Interfaces", ".spec.interfaceselector", priority=1)]),
    "TracepointProgram": ({"names": {"type": "array", "minItems": 1,
                                     "items": {"type": "string", "minLength": 3},
                                     "description": "Tracepoints as CATEGORY/NAME."}},
                          ["names"],
                          [col("Tracepoints", ".spec.names")]),
    "KprobeProgram": ({"func_names": {"type": "array", "minItems": 1,
                                      "items": {"type": "string", "minLength": 1}},
                       "offset": {"type": "integer", "format": "int64", "minimum": 0,
                                  "default": 0,
                                  "description": "Must be 0 for a retprobe."},
                       "retprobe": {"type": "boolean", "default": False}},
                      ["func_names"],
                      [col("Functions", ".spec.func_names"),
                       col("Retprobe", ".spec.retprobe", "boolean")]),
    "UprobeProgram": ({"func_name": {"type": "string"},
                       "offset": {"type": "integer", "format": "int64", "minimum": 0,
                                  "default": 0},
                       "target": {"type": "array", "minItems": 1,
                                  "items": {"type": "string", "minLength": 1},
                                  "description": "Library names or absolute paths."},
                       "retprobe": {"type": "boolean", "default": False},
                       "pid": {"type": "integer", "format": "int32", "minimum": 1}},
                      ["target"],
                      [col("Function", ".spec.func_name"),
                       col("Targets", ".spec.target"),
                       col("Retprobe", ".spec.retprobe", "boolean")]),
    "FentryProgram": ({"func_name": {"type": "string", "minLength": 1,
                                     "description": "The kernel function to attach to."}},
                      ["func_name"],
                      [col("Function", ".spec.func_name")]),
    "FexitProgram": ({"func_name": {"type": "string", "minLength": 1,
                                    "description": "The kernel function to attach to."}},
                     ["func_name"],
                     [col("Function", ".spec.func_name")]),
}


def crd(kind, spec, status, columns, desc, spec_required=None):
    plural = kind.lower() + "s"
    schema = {
        "type": "object",
        "description": desc,
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": spec,
            "status": status,
        },
    }
    if spec_required is not False:
        schema["required"] = ["spec"]
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}",
                     "labels": {"app.kubernetes.io/name": "bpfd"}},
        "spec": {
            "group": GROUP,
            "scope": "Cluster",
            "names": {"kind": kind, "listKind": kind + "List", "plural": plural,
                      "singular": kind.lower(), "categories": ["bpfd"]},
            "versions": [{
                "name": VERSION,
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "additionalPrinterColumns": columns,
                "schema": {"openAPIV3Schema": schema},
            }],
        },
    }


def program_crd(kind):
    extra, required, cols = PROGRAMS[kind]
    props = dict(COMMON)
    props.update(extra)
    spec = {"type": "object", "required": COMMON_REQUIRED + required, "properties": props}
    status = {"type": "object", "properties": {"conditions": CONDITIONS}}
    columns = ([col("Function", ".spec.bpffunctionname"),
                col("NodeSelector", ".spec.nodeselector", priority=1)] + cols +
               [STATUS_COL, AGE_COL])
    what = kind[:-len("Program")]
    return crd(kind, spec, status, columns,
               f"{what} programs for bpfd to load on the selected nodes; the agents "
               "report per node in BpfPrograms and the elected one sums them up here.")


def bpfprogram_crd():
    spec = {"type": "object", "required": ["type"], "properties": {
        "type": {"type": "string", "description": "The kind of program: xdp, tc, tcx, "
                 "tracepoint, kprobe, uprobe, fentry, fexit."},
        "node": {"type": "string", "description": "The node it is for."},
        "attachpoint": {"type": "string", "description": "The interface, tracepoint, "
                        "function or target of this object."},
        "maps": {"type": "object", "additionalProperties": {"type": "string"},
                 "description": "Map name -> pin path on the node."},
    }}
    status = {"type": "object", "properties": {"conditions": CONDITIONS}}
    columns = [col("Type", ".spec.type"), col("Node", ".spec.node"),
               col("AttachPoint", ".spec.attachpoint", priority=1), STATUS_COL, AGE_COL]
    return crd("BpfProgram", spec, status, columns,
               "The state of one *Program on one node and attach point, written by the "
               "node's bpfd-agent.")


def nodestate_crd():
    prog = {"type": "object", "required": ["id", "type"], "properties": {
        "id": {"type": "integer", "format": "int64", "description": "Kernel program id."},
        "name": {"type": "string"},
        "type": {"type": "string", "description": "Kernel program type."},
        "kind": {"type": "string", "description": "bpfd kind (xdp, tc ...) when bpfd "
                 "manages it."},
        "attachpoint": {"type": "string"},
        "owner": {"type": "string", "description": "\"bpfd\" (with bpfprogram naming the "
                  "object when the agent loaded it) or \"foreign\"."},
        "bpfprogram": {"type": "string"},
        "tag": {"type": "string"},
        "loadedat": {"type": "string", "format": "date-time"},
        "runcount": {"type": "integer", "format": "int64"},
        "runtimens": {"type": "integer", "format": "int64"},
        "mapids": {"type": "array", "items": {"type": "integer", "format": "int64"}},
    }}
    spec = {"type": "object", "properties": {
        "node": {"type": "string", "description": "The node (also the object's name)."}}}
    status = {"type": "object", "properties": {
        "updated": {"type": "string", "format": "date-time"},
        "total": {"type": "integer", "format": "int32"},
        "managed": {"type": "integer", "format": "int32"},
        "foreign": {"type": "integer", "format": "int32"},
        "programs": {"type": "array", "items": prog},
        "conditions": CONDITIONS,
    }}
    columns = [col("Total", ".status.total", "integer"),
               col("Bpfd", ".status.managed", "integer"),
               col("Foreign", ".status.foreign", "integer"),
               col("Updated", ".status.updated", "date"), AGE_COL]
    return crd("BpfNodeState", spec, status, columns,
               "Every BPF program loaded on one node (named after it), bpfd's and foreign "
               "ones, with run statistics; written by the node's bpfd-agent.",
               spec_required=False)


class NoAliasDumper(yaml.SafeDumper):
    # the shared parts are written out in full in each CRD (no &id001 anchors)
    def ignore_aliases(self, data):
        return True


def render():
    docs = [program_crd(k) for k in PROGRAMS] + [bpfprogram_crd(), nodestate_crd()]
    head = ("# crds.yaml - the CustomResourceDefinitions of bpfd.dev/v1alpha1 (cluster-scoped).\n"
            "# GENERATED by scripts/k8s-crds.py - edit that and run it; do not edit here.\n")
    return head + yaml.dump_all(docs, Dumper=NoAliasDumper, sort_keys=False, explicit_start=True, width=100)


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "dist", "k8s",
                       "crds.yaml")
    text = render()
    if sys.argv[1:] == ["--check"]:
        with open(out) as f:
            if f.read() != text:
                print("dist/k8s/crds.yaml is out of date: run scripts/k8s-crds.py",
                      file=sys.stderr)
                return 1
        return 0
    with open(out, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
