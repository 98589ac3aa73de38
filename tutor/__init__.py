"""tutor: learn deep learning with PyTorch in the terminal.

This module must stay cheap to import: the CLI and the UI import it, and neither may
pay for torch.
"""

__version__ = "0.1.0"
