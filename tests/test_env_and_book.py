import sys

from helpers import book, env


def test_package_report_marks_ok_and_fail(capsys):
    statuses = env.check_packages({"numpy": ("1.0", "x"), "surely-not-installed-pkg": ("1.0", "y"),
                                   "pytest": ("999.0", "z")})
    assert [s.ok for s in statuses] == [True, False, False]
    assert statuses[0].line().startswith("[OK]")
    assert "not installed" in statuses[1].line() and statuses[1].line().startswith("[FAIL]")


def test_versions_compare_as_versions_not_strings():
    assert env.PackageStatus("torch", "2.15.0+cu132", "2.4", "").ok
    assert not env.PackageStatus("torch", "2.3.1", "2.4", "").ok
    assert not env.PackageStatus("peft", "0.13.0rc1", "0.13", "").ok


def test_full_report_prints_device_and_profile(capsys):
    assert env.report("ci") is True
    out = capsys.readouterr().out
    assert "device: " in out and out.strip().endswith("profile: ci")


def test_glue_rounds_floats_and_passes_through_without_myst(monkeypatch):
    stored = {}
    import myst_nb

    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display: stored.update({name: value}))
    assert book.glue("x", 0.123456789) == 0.123456789
    assert stored["x"] == 0.1235
    book.glue("n", 7)
    assert stored["n"] == 7
    monkeypatch.setitem(sys.modules, "myst_nb", None)  # as on Colab
    assert book.glue("y", 1.5) == 1.5
    assert "y" not in stored


def test_env_main_exit_status(monkeypatch, capsys):
    assert env.main() == 0
    monkeypatch.setattr(env, "REQUIRED", {"surely-not-installed-pkg": ("1", "test")})
    assert env.main() == 1
    assert "[FAIL] surely-not-installed-pkg" in capsys.readouterr().out


def test_colab_cell_installs_everything_from_the_configured_repository(tmp_path):
    config = tmp_path / "_config.yml"
    config.write_text("repository:\n  url: https://example.org/course/repo/\n  branch: v2\n")
    assert env.repository(config) == ("https://example.org/course/repo", "v2")
    cell = env.colab_install_cell(config)
    assert '"wxb-course-helpers[all] @ git+https://example.org/course/repo@v2"' in cell
    assert 'if "google.colab" in sys.modules:' in cell
    compile(cell, "colab-cell", "exec")
    config.write_text("title: no repository\n")
    import pytest

    with pytest.raises(ValueError, match="repository"):
        env.repository(config)


def test_colab_cell_uses_the_book_repository():
    import yaml

    settings = yaml.safe_load((book_root() / "_config.yml").read_text())["repository"]
    assert f"git+{settings['url']}@{settings['branch']}" in env.colab_install_cell()


def book_root():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent


def test_helpers_cli_runs_without_runpy_warning():
    import subprocess

    result = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-m", "helpers", "where"],
                            capture_output=True, text=True, cwd=book_root())
    assert result.returncode == 0 and "offline dir:" in result.stdout, result.stderr
    assert "RuntimeWarning" not in result.stderr
