import numpy as np

from pytensor_spectral import demo


def test_demo_stabilizes_and_gradient_matches_finite_differences(capsys):
    demo.main()
    out = capsys.readouterr().out
    assert "\nstable (max Re λ = -" in out
    lines = {
        line.split(":")[0].strip(): line.split(":")[1] for line in out.splitlines() if ":" in line
    }
    ours = np.fromstring(lines["d alpha / dK, Schur-form gradient"].strip(" []"), sep=" ")
    fd = np.fromstring(lines["d alpha / dK, finite differences"].strip(" []"), sep=" ")
    np.testing.assert_allclose(ours, fd, rtol=1e-6)
