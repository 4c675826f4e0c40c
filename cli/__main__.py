"""``python -m gazekit.cli`` (also what ``torchrun -m gazekit.cli`` runs)."""

from gazekit.cli.main import main

if __name__ == "__main__":
    main()
