"""Differential fuzz test of kernelgen (issue 7, item 9): random kernels against an independent reference.

README
======

Run ``pytest tests/fuzz`` (the CI sample, about 3-4 minutes on one core from a cold cache) or
``KERNELGEN_FUZZ=1000 pytest tests/fuzz/test_fuzz_differential.py`` (a wide sweep). Every failure
prints a shrunk, runnable reproducer: the Python that builds the kernel, the request, the points,
kernelgen's value and the reference's.

What is generated (:mod:`.grammar`)
-----------------------------------
A seeded tree per case, rendered as the Python a user would type (the test evaluates exactly that
text) and, separately, as a SymPy expression the reference differentiates. Leaves: library kernels
(``kernels.rbf``, ``matern`` 1/2, 3/2, 5/2, ``rational_quadratic``, ``periodic``,
``exp_sine_squared``, ``linear``, ``dot_product``, ``polynomial``, ``constant``; isotropic or ARD,
renamed or not), strings for ``Kernel.from_string`` and SymPy objects for ``Kernel(expr, x, y, ...)``
(other input names, Unicode hyperparameter names). Inner nodes: kernelgen's ``+``, ``*``, positive
scalars and powers (non-integer only over kernels positive on the sampled box). String and SymPy
leaves are built from typed productions: stationary families (squared exponential, Matern,
``exp(-|t|**g)`` with g in (0, 2] as ``abs(t)^g``, ``(t^2)^(g/2)`` or a hyperparameter exponent,
rational quadratic, Cauchy, ``1/(1 + log(1 + r^2))``, periodic, cosine, sinc) of isotropic, ARD,
unscaled or cross-term quadratic forms, possibly of warped inputs ``w(x) - w(y)`` (``a x``, ``x^3``,
``sinh``, ``exp(x/a)``, ``atan``, ``x + 0.3 x^3``); products of 1-D kernels over different
dimensions; separable factors ``f(x) f(y)`` (``sqrt(x^2 + c)``, ``(1 + x^2)^p``, ``cos``, ``log``,
...); dot-product factors ``(s^2 + x.y)^n`` with integer, non-integer or hyperparameter ``n``;
``exp(x.y/a)``, ``log(c + x.y)``, ``cos(x^2 - y^2)``, ``cos x cos y + sin x sin y``; amplitudes,
shared hyperparameters; d = 1, 2, 3. Hyperparameter values are log-uniform, three digits, never
within 25% of 1. Three cases in a hundred pair two names equal after NFKC (``ℓ``/``l``, ``ﬁ``/``fi``,
``µ``/``μ``): they must be refused or kept apart. The invalid stream cycles through asymmetric,
one-argument, singular or limitless at x = y, and input-like names (``x``, ``y``, ``x_0``, ``X0``):
each must be refused at construction (``InvalidKernelError``; any ``ValueError`` until it exists).
``test_ci_sample_covers_the_grammar`` checks the CI sample reaches every production the issue's
cases need.

The reference (:mod:`.reference`)
---------------------------------
``sympy.diff`` of the expression as written (real inputs, positive hyperparameters; memoised, one
``diff`` per request from its parent), log-hyperparameter gradients ``theta d/dtheta`` by a central
difference in ``log theta`` at raised precision, all lambdified with common subexpressions for
mpmath: 50 digits at random points, ``40 + (order + 1)(log10(1/r) + 2)`` near x = y. At x = y the
reference is the limit: values at r = 1e-20, 1e-30, 1e-40 along a random direction (Aitken
extrapolation when they settle, the extrapolation counted as uncertainty) and at 1e-40 along -u and
a second direction; no limit when they grow, do not settle or depend on the direction. Nothing
there imports kernelgen; the library formulas are restated in :func:`.grammar.library_reference`.

What is checked and how it is judged (:mod:`.harness`)
-------------------------------------------------------
Per valid case: names and values (the documented ``_2`` renaming rule), symmetry k(x, y) = k(y, x)
in mpmath, the stationarity claim (translation by an exact shift in mpmath: a false claim fails, a
missed one is listed as over-conservative), every sampled request kernelgen accepts with its
gradients compared at every point, requests it refuses (``NotDifferentiableError``), and whether
the derivative processes exist: ``d^a f`` exists when every ``d^b/dx d^c/dy k`` with b, c within a
has a limit at x = y. A result fails ("finding") when kernelgen returns a finite value off by more
than ``1e-9 * max(|ref|, 1e-9 * scale)`` (``scale``: the output's largest |reference| over the
points), NaN or inf from finite inputs, a value for a derivative that does not exist, a false
stationarity claim, accepts an invalid kernel, or crashes. Listed but not failed: refusals of
derivatives that exist, errors below ``1e-13 * scale`` or within the inputs' float64 rounding
sensitivity (non-stationary kernels only) ("precision-limited"), and cases stopped at the time
limit ("slow", mostly kernelgen's generation time). A failing case is shrunk (sub-kernels,
sub-expressions, round hyperparameter values, keeping only valid kernels that fail the same way).
The session prints a summary: cases, outputs compared, worst relative error, findings by kind.

The CI sample (exactly)
-----------------------
200 valid cases (seeds 0..199, profile ``ci``: at most two leaves and size 40, see
:func:`.grammar.size`) and 40 invalid ones. Per valid case: every request of total order <= 1, two
seeded requests of order 2, one seeded request of order 3 in one case of three; every
log-hyperparameter gradient of the order <= 1 requests; 2 random points, 2 near points (|x - y|
log-uniform in 1e-12 .. 1e-3), one coincident point and, for d > 1, two pairs coinciding in different
random proper subsets of the coordinates (the reference: the limit as those coordinates meet, as
at x = y) and one pair near in a third; process existence probed for one derivative
per argument; one case in ten also through the compiled ``fill`` (the others through the generated
module's ``pair.py_func``: the same text without numba; where the Python raises, the compiled pair
is used); at most 5 s of CPU time per case (numba compilation not counted) and 60 s of
shrinking per session. ``KERNELGEN_FUZZ=N`` runs N cases
of the ``wide`` profile (up to three leaves, no size bound) and N/5 invalid ones with every request
of total order <= 3 and all their gradients, 3 random and 3 near points, probes up to two
derivatives per argument, every case compiled (numba
compiles a module of ~500 outputs in minutes), 300 s per case. ``KERNELGEN_FUZZ_SHRINK=<seconds>``
sets the shrinking budget; ``KERNELGEN_FUZZ_FINDINGS=<file>`` appends every shrunk finding to a
markdown file.

Findings
--------
Every distinct failure is a named test in ``test_fuzz_regressions.py`` with its reference check;
those for the known bugs of issue 7 fail until the preparation passes are fixed (on purpose: not
xfail). kernelgen is reached only through :mod:`.adapter` (public names), so a moved import path is
a one-file change.
"""
