# Figure 6 needs trained networks (minutes on a CPU): examples/figure6_landscape.py trains DARTS and two random
# connection variants, measures their loss surfaces (cellnas_edu.landscape.measure_landscape) and draws the
# contours side by side (cellnas_edu.landscape.compare.write_comparison_figures). It runs with RUN_SLOW = True.
import subprocess
import sys
from pathlib import Path

from IPython.display import Image, display

RUN_SLOW = globals().get("RUN_SLOW", False)
command = [sys.executable, "examples/figure6_landscape.py", "--out", "out/figure6", "--no-progress"]
print(" ".join(command[1:]))
if RUN_SLOW:
    subprocess.run(command, check=True)
    display(Image(filename=str(Path("out/figure6/compare_contours.png"))))
else:
    print("(not run: set RUN_SLOW = True to train the runs and draw the figure; the figure above is the book's)")
