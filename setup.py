"""The build of tether's optional native core (``tether._runtime._cnode`` and the
codec's ``tether._dist._cetf``, C).

Everything else about the package is in pyproject.toml; setuptools is its build
backend because it is the well-kept way to build a C extension from
pyproject.toml alone: no extra build tool, and the C compiler found the way
CPython itself was built.  The extension is optional: where no C compiler (or
no Python headers) is available, the build logs one line at debug level and
the package installs with its pure-Python core, never a failed install
(tether._runtime._core picks the core at import time).
"""

from __future__ import annotations

import logging
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

log = logging.getLogger("tether.build")


class OptionalBuildExt(build_ext):
    """build_ext that treats a failed compile or link as "no native core".

    A failed build also removes the module an earlier build left where this one
    would have written (an editable install builds in place, in src/): the old C
    would otherwise run beside the new Python it no longer mirrors.
    """

    def run(self) -> None:
        try:
            super().run()
        except Exception as ex:  # no compiler at all: setuptools fails before compiling
            log.debug("tether: the native core was not built (%s); the pure-Python core runs", ex)
            for ext in self.extensions:
                self._remove_stale(ext)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as ex:  # CompileError, LinkError, a missing compiler
            log.debug("tether: the native core was not built (%s); the pure-Python core runs", ex)
            self._remove_stale(ext)

    def _remove_stale(self, ext: Extension) -> None:
        path = Path(self.get_ext_fullpath(ext.name))
        if path.exists():
            path.unlink()
            log.debug("tether: removed %s, left by an earlier build", path)


setup(
    ext_modules=[
        Extension(
            "tether._runtime._cnode",
            sources=["src/tether/_runtime/_cnode.c"],
            extra_compile_args=["-O2"],
        ),
        Extension(
            "tether._dist._cetf",
            sources=["src/tether/_dist/_cetf.c"],
            extra_compile_args=["-O2"],
        ),
    ],
    cmdclass={"build_ext": OptionalBuildExt},
)
