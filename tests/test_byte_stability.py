"""Figure 3's notebook writes the same bytes under the machine's best and the generic CPU kernels (CI check)."""

from byte_stability import compare


def test_fig3_is_byte_stable_across_cpu_kernels():
    assert compare(["fig3-nongrad.ipynb"]) == []
