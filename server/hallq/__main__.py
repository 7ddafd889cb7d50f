"""python -m hallq"""

from .cli import main

main()
