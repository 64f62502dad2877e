"""The seam between an order and its challenges: tests plugins/module_utils/responders.py."""

from __future__ import annotations

import ast
import inspect
import os

import pytest

from ansible_collections.zerodowntime.acme.plugins.module_utils import ordering, responder, responders
from ansible_collections.zerodowntime.acme.plugins.module_utils.errors import ConfigError
from ansible_collections.zerodowntime.acme.plugins.module_utils.spec import CertificateSpec

ENGINE = os.path.dirname(inspect.getfile(responders))


def test_the_certificates_responder_is_chosen_here_and_answers_http_01(tmp_path):
    chosen = responders.for_certificate(CertificateSpec(domains=["a.example"], webroot=str(tmp_path)), 5)
    assert isinstance(chosen, responder.HttpResponder) and chosen.challenge_type == "http-01"
    for method in ("prepare", "present", "self_check", "advice", "__enter__", "__exit__"):
        assert callable(getattr(chosen, method))
    assert chosen.warnings == []


def test_dns_01_is_chosen_by_the_challenge_option():
    from ansible_collections.zerodowntime.acme.plugins.module_utils.dns01 import DnsResponder

    spec = CertificateSpec(domains=["*.a.example", "a.example"], challenge="dns-01",
                           dns={"writer": "hook", "hook": ["/bin/true"], "resolvers": ["127.0.0.1"]})
    responders.check_options(spec)
    chosen = responders.for_certificate(spec, 5)
    assert isinstance(chosen, DnsResponder) and chosen.challenge_type == "dns-01"
    for method in ("prepare", "present", "self_check", "advice", "__enter__", "__exit__"):
        assert callable(getattr(chosen, method))


@pytest.mark.parametrize("options, words", [
    (dict(domains=["*.a.example"], webroot="/srv"), r"\*.a.example is a wildcard, which the CA validates over dns-01"),
    (dict(domains=["a.example"], webroot="/srv", dns={"writer": "hook"}), "the dns option is for challenge dns-01"),
    (dict(domains=["a.example", "192.0.2.1"], challenge="dns-01", dns={"writer": "hook", "hook": ["/bin/true"]}),
     "192.0.2.1 is an IP address, which the CA validates over http-01 only"),
    (dict(domains=["a.example"], challenge="tls-alpn-01"), "challenge must be one of http-01, dns-01"),
    (dict(domains=["a.example"], challenge="dns-01"), "challenge dns-01 needs the dns option"),
])
def test_a_challenge_and_names_that_do_not_fit_fail_before_any_order(options, words):
    with pytest.raises(ConfigError, match=words):
        responders.check_options(CertificateSpec(**options))


def test_http_01_needs_a_webroot_and_says_so_before_any_order():
    with pytest.raises(ConfigError, match="webroot is required: the http-01 challenge is answered from a file"):
        responders.check_options(CertificateSpec(domains=["a.example"]))


def test_the_order_knows_the_interface_only():
    """A new challenge type is a file of its own plus its line in responders.py: nothing in the
    order's code names a challenge type, a webroot or a responder class."""
    source = inspect.getsource(ordering)
    for word in ("http-01", "webroot", "HttpResponder", "from .responder import"):
        assert word not in source, word


def _strings_outside_docstrings(path: str) -> list[tuple[int, str]]:
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


def test_no_engine_message_names_a_web_server():
    """The server's name comes from renew.json (settings.py, whose examples are nginx's); nginx's
    and Apache's configuration syntax may be quoted as examples."""
    for name in sorted(os.listdir(ENGINE)):
        if not name.endswith(".py") or name == "settings.py":
            continue
        for number, text in _strings_outside_docstrings(os.path.join(ENGINE, name)):
            example = text.replace("(nginx: location", "").replace("; Apache: Alias", "")
            assert "nginx" not in example and "Apache" not in example, f"{name}:{number}: {text}"
