"""What every identity fixture generator shares (Tools/gen-identity-fixtures puts this folder on PYTHONPATH)."""
import os


def write_if_changed(path, text):
    """Writes only when the bytes change, so a re-run leaves git clean and file times alone."""
    if os.path.exists(path):
        with open(path) as handle:
            if handle.read() == text:
                return
    with open(path, "w") as handle:
        handle.write(text)
