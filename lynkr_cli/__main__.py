from lynkr_cli.cli import main

raise SystemExit(main())
