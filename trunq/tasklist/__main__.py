"""``python -m trunq.tasklist INFILE OUTFILE [-r] [-p] [-s SESSION]``: run one task file by hand."""

import sys

from trunq.tasklist.child import main

if __name__ == "__main__":
    sys.exit(main())
