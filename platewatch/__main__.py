from platewatch.cli import main

raise SystemExit(main())
