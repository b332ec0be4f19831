from cloudctl.cli.app import main

main()
