from chainright.cli import main

main()
