"""Type stubs of the extension module ``surge._surge`` (python/src/lib.rs): each function takes
a command's arguments as the command line writes them after its name and returns the command's
documents as one JSON text. Use the ``surge`` package instead; it builds the arguments and the
DataFrames."""

from typing import Callable, List, Optional, Tuple

__version__: str

class Error(Exception):
    """args: (kind, message); kind is "bad_input", "interrupted", "io" or "failed"."""

    file: Optional[str]
    line: Optional[int]
    column: Optional[int]
    key: Optional[str]

_Progress = Optional[Callable[[int, int, str], None]]

def check(args: List[str]) -> str: ...
def run(args: List[str], progress: _Progress = None) -> str: ...
def sweep(args: List[str], progress: _Progress = None) -> str: ...
def crashpoint(args: List[str], progress: _Progress = None) -> str: ...
def compare(args: List[str], progress: _Progress = None) -> str: ...
def fit(args: List[str]) -> str: ...
def model_text(path: Optional[str], sets: List[str]) -> str: ...
def builtin() -> Tuple[str, str]: ...
