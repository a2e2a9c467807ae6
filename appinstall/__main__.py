from appinstall.cli import main

main()
