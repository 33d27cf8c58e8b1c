# Figures 7 and 8 need trained networks (minutes on a CPU): examples/figure7_8_gradient_variance.py trains (or
# reuses) the runs of Figure 6, adds the gradient variance g(alpha, beta) (Section 4.2.2) on the same grid, and
# draws both figures (cellnas_edu.landscape.compare.write_comparison_figures). It runs with RUN_SLOW = True.
import subprocess
import sys
from pathlib import Path

from IPython.display import Image, display

RUN_SLOW = globals().get("RUN_SLOW", False)
command = [sys.executable, "examples/figure7_8_gradient_variance.py", "--out", "out/figure6", "--no-progress"]
print(" ".join(command[1:]))
if RUN_SLOW:
    subprocess.run(command, check=True)
    display(Image(filename=str(Path("out/figure6/compare_gradvar_heatmaps.png"))))
else:
    print("(not run: set RUN_SLOW = True to train the runs and draw Figures 7 and 8; the figure above is the book's)")
