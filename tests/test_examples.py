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
