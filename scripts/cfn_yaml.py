"""cfn_yaml: CloudFormation YAML read as plain data, the short intrinsic forms (!Ref, !Sub,
!GetAtt, !If, ...) turned into their long forms ({"Ref": ...}, {"Fn::Sub": ...}).  The one
loader of the templates, shared by scripts/stackset_template.py and the tests
(tests/fidelity/render.py, tests/integration/test_templates.py)."""
import yaml


class CfnLoader(yaml.SafeLoader):
    """A SafeLoader that knows CloudFormation's short intrinsic forms."""


def _intrinsic(loader, suffix, node):
    name = "Ref" if suffix == "Ref" else ("Fn::GetAtt" if suffix == "GetAtt" else "Fn::" + suffix)
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CfnLoader.add_multi_constructor("!", _intrinsic)


def load(path):
    """The template at ${path} as dicts and lists."""
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=CfnLoader)  # noqa: S506 - SafeLoader subclass
