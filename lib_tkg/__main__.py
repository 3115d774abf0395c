"""``python -m lib_tkg`` runs the ``tkg-chroma`` command line."""

from lib_tkg.cli import main

raise SystemExit(main())
