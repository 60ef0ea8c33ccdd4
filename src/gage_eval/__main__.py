from gage_eval.cli.app import main

main()
