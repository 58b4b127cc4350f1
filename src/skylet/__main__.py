"""``python -m skylet``: the ``skylet`` command."""

from skylet.cli.main import main

if __name__ == "__main__":
    main()
