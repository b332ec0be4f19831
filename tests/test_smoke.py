from tests.conftest import HUNWICK


def test_import_and_list(hunwick_cli):
    services = hunwick_cli.json("service", "list")
    assert len(services) == 19


def test_unknown_service_is_refused(hunwick_cli):
    result = hunwick_cli.fails("service", "show", "My Math")
    assert "My Maths" in result.stderr
    assert HUNWICK.exists()
