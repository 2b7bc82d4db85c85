"""Loading saved scikit-learn models safely: skops by default, pickle only when trusted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scrutiny.exceptions import ConfigError

#: types that carry no code, which skops lists as untrusted in common scikit-learn pipelines
SKOPS_SAFE_TYPES = ("numpy.dtype",)


def load_model(
    path: str | Path, *, fmt: str, trust: bool, where: str, format_field: str | None = None
) -> Any:
    """Load a model file; ``where`` names the input in errors (``--model``, ``data.model``).

    Parameters
    ----------
    path : str or Path
        The model file.
    fmt : {"skops", "pickle"}
        Its format. A pickle can run arbitrary code when loaded.
    trust : bool
        Allow a pickle, or skops types outside the safe list.
    where : str
        The config field or CLI flag, for error messages.
    format_field : str, default=None
        The field that chose the format, named when a pickle is refused.

    Returns
    -------
    object
        The loaded model.

    Raises
    ------
    ConfigError
        Missing or unreadable file, or an untrusted file without ``trust``.
    """
    p = Path(path)
    if not p.is_file():
        msg = f"{where}: the model file {str(p)!r} does not exist."
        raise ConfigError(msg)
    if fmt == "pickle":
        if not trust:
            msg = (
                f"{format_field or where}: {str(p)!r} is a pickle, which can run arbitrary "
                "code when loaded. Save the model with skops instead, or pass --trust if you "
                "trust whoever wrote the file."
            )
            raise ConfigError(msg)
        import pickle

        try:
            with p.open("rb") as fh:
                return pickle.load(fh)
        except Exception as exc:
            msg = f"{where}: {str(p)!r} could not be unpickled ({exc})."
            raise ConfigError(msg) from None
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(file=p)
    except Exception as exc:
        msg = f"{where}: {str(p)!r} is not a readable skops file ({exc})."
        raise ConfigError(msg) from None
    untrusted = [t for t in untrusted if t not in SKOPS_SAFE_TYPES]
    if untrusted and not trust:
        msg = (
            f"{where}: {str(p)!r} contains types skops does not trust by default: "
            f"{untrusted}. Review them, then pass --trust to load the model."
        )
        raise ConfigError(msg)
    try:
        return sio.load(p, trusted=[*untrusted, *SKOPS_SAFE_TYPES])
    except Exception as exc:
        msg = f"{where}: {str(p)!r} could not be loaded with skops ({exc})."
        raise ConfigError(msg) from None
