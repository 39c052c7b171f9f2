"""S2C-Hybrid reference model (PyTorch): the specification the Swift runtimes implement."""
from .config import CONFIGS, ModelConfig, get_config  # noqa: F401
