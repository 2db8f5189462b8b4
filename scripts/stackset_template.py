#!/usr/bin/env python3
"""Generate templates/production-stackset.yaml, the StackSet-ready twin of template.yaml.

CloudFormation StackSets deploy one template into many accounts and Regions, without SAM's
packaging step: the twin has no Transform (this script applies AWS's SAM transform,
samtranslator, the version SAM CLI uses, offline) and its function code comes from an S3
bucket per Region, named "<ArtifactBucketPrefix>-<Region>", object ArtifactKey (Lambda reads
code only from a bucket in the function's own Region). `make upload-stackset-artifact`
puts build/snapferry.zip there (docs/deployment.md, Organization).

Nothing else changes: the same parameters (none per account: the backup account's id, role
and key are the same for every account; the share key is created by each stack), the same
policies, events and alarms.

  .venv-sam/bin/python scripts/stackset_template.py [--check] [--version V] [-o FILE]

--check: exit 1 when FILE differs from what template.yaml gives (tests run it).
"""
import argparse
import copy
import json
import os
import pathlib
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOURCE = ROOT / "template.yaml"
TARGET = ROOT / "templates" / "production-stackset.yaml"
FUNCTION = "SnapferryFunction"
HEADER = ("# GENERATED from template.yaml by scripts/stackset_template.py (make package-stackset):\n"
          "# do not edit. The StackSet-ready production template: no SAM transform, the\n"
          "# function's code in the bucket <ArtifactBucketPrefix>-<Region> (docs/deployment.md,\n"
          "# Organization).\n")


sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from cfn_yaml import CfnLoader as _Loader  # noqa: E402  (the one loader of the templates)


def makefile_version():
    for line in (ROOT / "Makefile").read_text(encoding="utf-8").splitlines():
        if line.startswith("VERSION") and ":=" in line:
            return line.split(":=", 1)[1].strip()
    raise SystemExit("no VERSION in the Makefile")


def with_s3_code(template, version):
    """template.yaml with the function's CodeUri pointing at the per-Region artefact
    bucket, and the two parameters that name it."""
    t = copy.deepcopy(template)
    if t.get("Transform") != "AWS::Serverless-2016-10-31":
        raise SystemExit("template.yaml is not a SAM template")
    fn = t["Resources"][FUNCTION]
    if fn.get("Metadata", {}).get("BuildMethod") != "makefile":
        raise SystemExit(f"{FUNCTION} is not built by the Makefile: update this script")
    fn["Properties"]["CodeUri"] = {
        "Bucket": {"Fn::Sub": "${ArtifactBucketPrefix}-${AWS::Region}"},
        "Key": {"Ref": "ArtifactKey"}}
    t["Parameters"]["ArtifactBucketPrefix"] = {
        "Type": "String",
        # S3 bucket names: 3-63 characters; "-<Region>" (at most 15) is added here
        "AllowedPattern": "^[a-z0-9][a-z0-9.-]{1,46}$",
        "Description": ("The function's code is s3://<ArtifactBucketPrefix>-<Region>/<ArtifactKey>: "
                        "one bucket per Region of the StackSet, readable by every account of "
                        "the organization (docs/deployment.md, Organization)."),
    }
    t["Parameters"]["ArtifactKey"] = {
        "Type": "String",
        "Default": f"snapferry/{version}/snapferry.zip",
        "AllowedPattern": "^[A-Za-z0-9!_.*'()/-]+\\.zip$",
        "Description": ("Object key of the zip (make package: the static bootstrap). A new "
                        "key per version makes CloudFormation update the code."),
    }
    groups = t["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    groups.insert(0, {"Label": {"default": "Code: the per-Region artefact bucket"},
                      "Parameters": ["ArtifactBucketPrefix", "ArtifactKey"]})
    return t


def transform(template):
    """AWS's SAM transform, offline (no parameter values: every intrinsic stays for
    CloudFormation to resolve in each account and Region)."""
    from samtranslator.translator.transform import transform as sam_transform

    class NoManagedPolicies:
        # template.yaml names no managed policy: nothing to look up in IAM
        def load(self):
            return {}
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    # (the transform edits its input: keep the template's own expressions)
    src = copy.deepcopy(template["Resources"][FUNCTION]["Properties"].get("EventInvokeConfig", {}))
    out = sam_transform(copy.deepcopy(template), {}, NoManagedPolicies())
    # SAM's build hint means nothing without SAM
    for res in out["Resources"].values():
        md = res.get("Metadata")
        if md:
            md.pop("BuildMethod", None)
            md.pop("SamResourceId", None)
            if not md:
                del res["Metadata"]
    # SAM resolves the Refs of EventInvokeConfig with the parameters' defaults when it is given
    # no values: put the template's expressions back, or the StackSet's values would be
    # ignored (cfn-lint's unused-parameter check, in the tests, catches any other such case).
    eic = out["Resources"].get(FUNCTION + "EventInvokeConfig")
    if src and eic is None:
        raise SystemExit("SAM made no EventInvokeConfig resource: update this script")
    for k in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"):
        if k in src:
            eic["Properties"][k] = src[k]
    out["Description"] = ("snapferry (production account, StackSet-ready: generated from "
                          "template.yaml). " + template["Description"])
    return out


def render(version):
    with open(SOURCE, encoding="utf-8") as f:
        source = yaml.load(f, Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    out = transform(with_s3_code(source, version))
    if "Transform" in out:
        raise SystemExit("the SAM transform left a Transform")
    # JSON round trip: plain types only, then YAML in template order
    out = json.loads(json.dumps(out))
    return HEADER + yaml.safe_dump(out, sort_keys=False, width=100, default_flow_style=False)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--version", default=None)
    ap.add_argument("-o", "--output", default=str(TARGET))
    a = ap.parse_args(argv)
    text = render(a.version or makefile_version())
    out = pathlib.Path(a.output)
    if a.check:
        if not out.exists() or out.read_text(encoding="utf-8") != text:
            print(f"{out} is out of date: run make package-stackset", file=sys.stderr)
            return 1
        return 0
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
