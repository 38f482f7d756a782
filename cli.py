"""Run symkl from a checkout without installing: python cli.py kl normal normal"""
from symkl.cli import main

if __name__ == "__main__":
    main()
