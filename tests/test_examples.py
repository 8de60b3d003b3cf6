import importlib.util
from pathlib import Path


def load(name):
    path = Path(__file__).parents[1] / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_stability_penalty_drives_numerical_abscissa_below_margin(capsys):
    example = load("stable_vector_field")
    omega = example.main(n=30, steps=150, margin=-0.1, learning_rate=0.1)
    first = float(capsys.readouterr().out.splitlines()[0].split("=")[1])
    assert first > 0
    assert omega < -0.05


def test_robust_feedback_increases_the_distance_to_instability(tmp_path):
    example = load("robust_feedback")
    before, after = example.main(str(tmp_path / "plot.png"))
    alpha, alpha_eps, beta = (float(v) for v in before)
    assert alpha < 0 and 0 < beta <= -alpha + 1e-12 and alpha_eps >= alpha + 0.1
    assert float(after[2]) > 1.2 * beta  # the robust gain, measured by β
    assert float(after[0]) < 0
