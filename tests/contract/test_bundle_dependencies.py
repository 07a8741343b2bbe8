"""The contract bundle (the documents, their loading and overlays) depends on nothing else in the
package: the simulator imports the bundle, never the other way round."""

from __future__ import annotations

import subprocess
import sys


def test_loading_the_bundle_imports_no_simulator_module():
    code = (
        "import sys; from pismo_sandbox.contracts.bundle import SOURCES, load_document; "
        "[load_document(s) for s in SOURCES]; "
        "print(sorted(m for m in sys.modules if m.startswith('pismo_sandbox')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == (
        "['pismo_sandbox', 'pismo_sandbox.contracts', 'pismo_sandbox.contracts.bundle', "
        "'pismo_sandbox.contracts.document_cache']"
    )
