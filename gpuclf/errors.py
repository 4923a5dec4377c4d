"""The one exception type for user mistakes."""


class GpuclfError(Exception):
    """A problem the user can fix: bad input, missing dependency, bad option.

    The command line prints its message as one line and exits with code 2;
    the message says what is wrong and what to do.
    """


class InputError(GpuclfError, ValueError):
    """Bad data or parameter given to an estimator.

    A :class:`GpuclfError` for the command line, and a ``ValueError`` for
    scikit-learn's tools (grid search, ``check_estimator``), which expect one.
    """


class ParameterError(InputError, TypeError):
    """A hyper-parameter of the wrong type or outside its range.

    Also a ``TypeError``, as scikit-learn's ``InvalidParameterError`` is, so
    code written against scikit-learn's parameter errors catches it either way.
    """
