import pytensor


# The cvm mode is tested for running `perform` and PyTensor's C ops, not for PyTensor's
# BLAS linkage: with PyTensor installed from pip, finding no system BLAS is a warning
# (an error under this suite's filterwarnings); declare "no BLAS" so it falls back to NumPy.
pytensor.config.blas__ldflags = ""
