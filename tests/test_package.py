"""tether is a real package: the wheel installs anywhere Python does, and the README's
two commands are the ones the project runs.

The build test makes the sdist and, from it, the wheel (``uv build``, as CI does),
then installs the wheel into a fresh virtual environment whose PATH has no compiler
and no network index, and runs the ``tether`` command there; and installs the sdist
the same way, where the native core cannot be compiled, to get the pure-Python core.
It needs ``uv`` (the test command runs under it) and the build backend (setuptools,
which uv fetches from the package index once and then takes from its cache).
"""

from __future__ import annotations

import email
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

import tether
import tether.demo

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
CI = (ROOT / ".ci/run").read_text()
README = (ROOT / "README.md").read_text()


def uv() -> str:
    # `uv run` tells its children where it is; otherwise look on PATH.
    found = os.environ.get("UV") or shutil.which("uv")
    assert found, "uv is needed to build the package: pip install uv"
    return found


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel built from it, as `uv build` makes them."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        # For this interpreter: the wheel carries a native core built for it.
        [uv(), "build", "--python", sys.executable, "--out-dir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return out


def wheel_of(dist: Path) -> Path:
    # A platform wheel: it carries the native core, built where the sdist was.
    [wheel] = dist.glob("tether-*-cp3*-cp3*-*.whl")
    return wheel


def bare_venv(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A fresh venv, and an environment whose PATH holds that venv alone: no cc,
    gcc, c++ or make to build anything with."""
    venv = tmp_path / "venv"
    subprocess.run(
        [uv(), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True, timeout=120
    )
    env = {"PATH": str(venv / "bin"), "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    for compiler in ("cc", "gcc", "c++", "g++", "clang", "make"):
        assert shutil.which(compiler, path=env["PATH"]) is None
    # uv's cache (where the build backend is) stays the one the test command uses.
    cache = subprocess.run(
        [uv(), "cache", "dir"], capture_output=True, text=True, check=True, timeout=60
    )
    env["UV_CACHE_DIR"] = cache.stdout.strip()
    return venv, env


@pytest.mark.timeout(300)
def test_the_wheel_installs_and_runs_in_a_fresh_venv_with_no_compiler_on_path(
    dist: Path, tmp_path: Path
) -> None:
    venv, env = bare_venv(tmp_path)
    bin_dir = venv / "bin"
    install = [uv(), "pip", "install", "--quiet", "--offline", "--no-index"]
    python = str(bin_dir / "python")
    subprocess.run(
        [*install, "--python", python, str(wheel_of(dist))], check=True, env=env, timeout=120
    )

    def run(*cmd: str) -> str:
        done = subprocess.run(
            cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    assert run("tether", "--version") == f"tether {tether.__version__} (native core)\n"
    # the codec's C came with it (tether._dist._cetf), and the native core uses it
    assert run("python", "-c", "import tether._dist.etf as e; print(e._cetf.__name__)") == (
        "tether._dist._cetf\n"
    )
    where = run("python", "-c", "import tether; print(tether.__file__)")
    assert where.startswith(str(venv)), where
    demo = run("tether", "demo")
    assert [line for line in demo.splitlines() if line.startswith("# ")] == [
        f"# {name}" for name in tether.demo.NAMES
    ]
    assert "shell process exited with reason: killed" in demo
    one = run("python", "-m", "tether.demo.a1_dead_processes_tell_no_tales")
    assert (
        one
        == (Path(tether.demo.__file__).parent / "a1_dead_processes_tell_no_tales.out").read_text()
    )


@pytest.mark.timeout(300)
def test_the_sdist_installs_with_no_compiler_and_runs_the_pure_python_core(
    dist: Path, tmp_path: Path
) -> None:
    venv, env = bare_venv(tmp_path)
    [sdist] = dist.glob("tether-*.tar.gz")
    # --offline: the build backend comes from uv's cache; the C core cannot build.
    done = subprocess.run(
        [uv(), "pip", "install", "--offline", "--python", str(venv / "bin/python"), str(sdist)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "error" not in done.stderr.lower(), done.stderr[-2000:]
    assert not list(venv.glob("lib/python*/site-packages/tether/_runtime/_cnode*.so"))
    assert not list(venv.glob("lib/python*/site-packages/tether/_dist/_cetf*.so"))

    def run(*cmd: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            cmd,
            cwd=tmp_path,
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    version = run("tether", "--version")
    assert version.stdout == f"tether {tether.__version__} (python core)\n", version.stderr
    demo = run("python", "-m", "tether.demo.a1_dead_processes_tell_no_tales")
    assert (
        demo.stdout
        == (Path(tether.demo.__file__).parent / "a1_dead_processes_tell_no_tales.out").read_text()
    )
    # Asking for the native core there is an error that says what to do.
    forced = run("tether", "--version", TETHER_CORE="native")
    assert forced.returncode == 1
    assert "TETHER_CORE=native, but tether's native core" in forced.stderr


@pytest.mark.timeout(300)
def test_a_failed_build_in_place_removes_the_modules_an_earlier_build_left(
    tmp_path: Path,
) -> None:
    """setup.py: an editable install builds in place, in src/.  When a later build
    of the C fails, the module of the earlier build must not stay there to run
    beside Python it no longer mirrors: the pure-Python core runs instead."""
    venv = tmp_path / "venv"
    subprocess.run(
        [uv(), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True, timeout=120
    )
    python = str(venv / "bin" / "python")
    subprocess.run(
        [uv(), "pip", "install", "--quiet", "--offline", "--python", python, "setuptools>=77"],
        check=True,
        timeout=120,
    )
    proj = tmp_path / "proj"
    for name in ("setup.py", "pyproject.toml", "README.md", "LICENSE"):
        (proj / name).parent.mkdir(exist_ok=True)
        shutil.copy(ROOT / name, proj / name)
    shutil.copytree(
        ROOT / "src", proj / "src", ignore=shutil.ignore_patterns("*.so", "__pycache__")
    )
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    left = [
        proj / "src/tether/_runtime" / f"_cnode{suffix}",
        proj / "src/tether/_dist" / f"_cetf{suffix}",
    ]
    for module in left:
        module.write_bytes(b"an earlier build's module")
    (proj / "src/tether/_runtime/_cnode.c").write_text("this is not C\n")
    done = subprocess.run(
        [python, "setup.py", "build_ext", "--inplace"],
        cwd=proj,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]  # optional: never a failed build
    assert "this is not C" in done.stderr  # the compiler did fail
    assert [m.exists() for m in left] == [False, False]
    core = subprocess.run(
        [python, "-c", "import tether._runtime._core as c; print(c.NAME)"],
        cwd=proj / "src",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert core.stdout == "python\n"


def test_the_wheel_carries_the_license_the_demo_and_its_metadata(dist: Path) -> None:
    with zipfile.ZipFile(wheel_of(dist)) as whl:
        names = set(whl.namelist())
        meta = email.message_from_bytes(whl.read(f"tether-{tether.__version__}.dist-info/METADATA"))
    assert f"tether-{tether.__version__}.dist-info/licenses/LICENSE" in names
    assert "tether/py.typed" in names
    for name in tether.demo.NAMES:
        assert {f"tether/demo/{name}.py", f"tether/demo/{name}.out"} <= names
    assert not any(n.startswith(("tests/", "bench/", "examples/")) for n in names)
    assert meta["License-Expression"] == "Apache-2.0"
    assert meta["Requires-Python"] == ">=3.11"
    # No dependency but the extras' (pip install tether[observer], tether[uvloop]).
    assert meta.get_all("Requires-Dist") == [
        'aiohttp>=3.9; extra == "observer"',
        'rich>=13.7; extra == "observer"',
        'uvloop>=0.21; sys_platform != "win32" and extra == "uvloop"',
    ]
    versions = sorted(
        c.rsplit(" ", 1)[1]
        for c in meta.get_all("Classifier", [])
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    )
    assert versions == ["3.11", "3.12", "3.13"]


def test_the_sdist_has_what_a_rebuild_and_the_tests_need(dist: Path) -> None:
    [sdist] = dist.glob("tether-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert {"LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml", "uv.lock"} <= names
    assert {"src/tether/__init__.py", "src/tether/demo/a7_monitors.out", "docs/conf.py"} <= names
    assert {"tests/test_package.py", "scripts/check.py"} <= names


def test_the_license_is_the_apache_2_text_that_pyproject_names() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]
    assert text.lstrip().startswith("Apache License\n                           Version 2.0")
    assert "END OF TERMS AND CONDITIONS" in text and len(text.splitlines()) == 202


def test_uv_run_tether_installs_no_dependency_group_by_default() -> None:
    # `uv run tether` must not install the dev tools or build the benchmark's C peers.
    assert PYPROJECT["project"]["dependencies"] == []
    assert PYPROJECT["tool"]["uv"]["default-groups"] == []
    assert {"dev", "bench", "docs"} <= set(PYPROJECT["dependency-groups"])


def test_the_readme_opens_with_the_two_commands_and_ci_runs_the_second_verbatim() -> None:
    first = re.search(r"```(\w*)\n(.*?)```", README, flags=re.S)
    assert first is not None and first.group(1) == "sh"
    main_job, test_command = first.group(2).splitlines()
    assert main_job == "pip install uv && uv run tether"
    assert test_command == "pip install uv && uv run --frozen --all-groups python scripts/check.py"
    assert test_command in CI.splitlines()
    # Before it: what tether is, and how to add it to a project without PyPI.
    opening = README[: first.start()]
    assert "uv add" in opening and "pip install" in opening and "git+" in opening
