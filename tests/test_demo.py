import numpy as np

from pytensor_spectral import demo


def test_demo_stabilizes_and_gradient_matches_finite_differences(capsys, tmp_path):
    alpha_before, alpha_after = demo.main(tmp_path / "eigenvalues.png")
    assert alpha_before > 0 > alpha_after
    out = capsys.readouterr().out
    assert "(stable)" in out
    lines = {
        line.split(":")[0].strip(): line.split(":")[1]
        for line in out.splitlines()
        if ":" in line
    }
    ours = np.fromstring(
        lines["d objective / dK, exact gradient"].strip(" []"), sep=" "
    )
    fd = np.fromstring(
        lines["d objective / dK, finite differences"].strip(" []"), sep=" "
    )
    np.testing.assert_allclose(ours, fd, rtol=1e-6)
