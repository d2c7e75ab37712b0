"""Reference implementations of the ``autodiff`` family.

Each implementation returns derivatives (gradients, Jacobians, JVPs/VJPs) of a
small fixed function whose derivative is known in closed form, so that the
catalog's expected values come from mathematics, not from JAX.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from .._implementation import Implementation
from .loops import _power_fori, _power_while  # the same x**n loops as the loops family

# --- grad-scalar: f(x) = x^3 + 2x^2 - 3x + 1 ----------------------------------


def _cubic(x):
    return x**3 + 2 * x**2 - 3 * x + 1


def grad_scalar(x):
    return jax.grad(_cubic)(x)


def value_and_grad_scalar(x):
    return jax.value_and_grad(_cubic)(x)[1]


def jvp_unit_tangent(x):
    return jax.jvp(_cubic, (x,), (jnp.ones_like(x),))[1]


def jacfwd_scalar(x):
    return jax.jacfwd(_cubic)(x)


# --- grad-partial-derivatives: f(x, y) = x^2 y + 3y ---------------------------


def _f_xy(x, y):
    return x**2 * y + 3 * y


def grad_argnums(x, y):
    return jax.grad(_f_xy, argnums=(0, 1))(x, y)


def grad_each_argument(x, y):
    return jax.grad(_f_xy, argnums=0)(x, y), jax.grad(_f_xy, argnums=1)(x, y)


def grad_tuple_argument(x, y):
    return jax.grad(lambda xy: _f_xy(*xy))((x, y))


# --- grad-quadratic-form / hessian-quadratic-form: f(x) = x^T a x -----------------


def _quad(a, x):
    return x @ a @ x


def grad_quadratic(a, x):
    return jax.grad(_quad, argnums=1)(a, x)


def jacrev_quadratic(a, x):
    return jax.jacrev(_quad, argnums=1)(a, x)


def vjp_quadratic(a, x):
    value, pullback = jax.vjp(lambda v: _quad(a, v), x)
    return pullback(jnp.ones_like(value))[0]


def hessian_quadratic(a, x):
    return jax.hessian(_quad, argnums=1)(a, x)


def jacfwd_jacrev_quadratic(a, x):
    return jax.jacfwd(jax.jacrev(_quad, argnums=1), argnums=1)(a, x)


def jacrev_jacrev_quadratic(a, x):
    return jax.jacrev(jax.jacrev(_quad, argnums=1), argnums=1)(a, x)


def jacfwd_jacfwd_quadratic(a, x):
    return jax.jacfwd(jax.jacfwd(_quad, argnums=1), argnums=1)(a, x)


# --- grad-sigmoid-chain-rule: f(w) = sigmoid(w . x) ---------------------------------


def _sigmoid(z):
    return 1.0 / (1.0 + jnp.exp(-z))


def grad_sigmoid_manual(w, x):
    return jax.grad(lambda w: _sigmoid(jnp.dot(w, x)))(w)


def grad_sigmoid_jax_nn(w, x):
    return jax.grad(lambda w: jax.nn.sigmoid(jnp.dot(w, x)))(w)


# --- grad-has-aux: loss = sum(x^2), aux = x^2 ---------------------------------------


def _loss_with_aux(x):
    squares = x**2
    return jnp.sum(squares), squares


def grad_has_aux(x):
    return jax.grad(_loss_with_aux, has_aux=True)(x)


def value_and_grad_has_aux(x):
    (_, aux), g = jax.value_and_grad(_loss_with_aux, has_aux=True)(x)
    return g, aux


# --- jacobian-linear-map / jvp-linear-map / vjp-linear-map: f(x) = w x ------------------


def _linear(w, x):
    return w @ x


def jacfwd_linear(w, x):
    return jax.jacfwd(_linear, argnums=1)(w, x)


def jacrev_linear(w, x):
    return jax.jacrev(_linear, argnums=1)(w, x)


def vmap_vjp_linear(w, x):
    _, pullback = jax.vjp(lambda v: _linear(w, v), x)
    rows = jnp.eye(w.shape[0], dtype=x.dtype)
    return jax.vmap(lambda u: pullback(u)[0])(rows)


def vmap_jvp_linear(w, x):
    cols = jnp.eye(x.shape[0], dtype=x.dtype)
    columns = jax.vmap(lambda t: jax.jvp(lambda v: _linear(w, v), (x,), (t,))[1])(cols)
    return columns.T


def jvp_linear(w, x, v):
    return jax.jvp(lambda z: _linear(w, z), (x,), (v,))


def linearize_linear(w, x, v):
    y, f_lin = jax.linearize(lambda z: _linear(w, z), x)
    return y, f_lin(v)


def jacfwd_matmul_linear(w, x, v):
    return _linear(w, x), jax.jacfwd(_linear, argnums=1)(w, x) @ v


def vjp_linear(w, x, u):
    y, pullback = jax.vjp(lambda z: _linear(w, z), x)
    return y, pullback(u)[0]


def linear_transpose_linear(w, x, u):
    transpose = jax.linear_transpose(lambda z: _linear(w, z), x)
    return _linear(w, x), transpose(u)[0]


def jacrev_matmul_linear(w, x, u):
    return _linear(w, x), u @ jax.jacrev(_linear, argnums=1)(w, x)


# --- stop-gradient-td0 ----------------------------------------------------------------


def _value_fn(theta, state):
    return jnp.dot(theta, state)


def td0_stop_gradient(theta, s_tm1, r_t, s_t):
    def td_loss(theta):
        target = r_t + _value_fn(theta, s_t)
        return (lax.stop_gradient(target) - _value_fn(theta, s_tm1)) ** 2

    return jax.grad(td_loss)(theta)


def td0_separate_target_argument(theta, s_tm1, r_t, s_t):
    def td_loss(theta, theta_target):
        return (r_t + _value_fn(theta_target, s_t) - _value_fn(theta, s_tm1)) ** 2

    return jax.grad(td_loss, argnums=0)(theta, theta)


# --- straight-through-round ---------------------------------------------------------------


def ste_round_stop_gradient(x):
    return x + lax.stop_gradient(jnp.round(x) - x)


@jax.custom_jvp
def _round_identity_jvp(x):
    return jnp.round(x)


@_round_identity_jvp.defjvp
def _round_identity_jvp_rule(primals, tangents):
    (x,), (t,) = primals, tangents
    return jnp.round(x), t


@jax.custom_vjp
def _round_identity_vjp(x):
    return jnp.round(x)


def _round_fwd(x):
    return jnp.round(x), None


def _round_bwd(_, g):
    return (g,)


_round_identity_vjp.defvjp(_round_fwd, _round_bwd)


def ste_round_custom_jvp(x):
    return _round_identity_jvp(x)


def ste_round_custom_vjp(x):
    return _round_identity_vjp(x)


# --- straight-through-one-hot: f(p) = w . one_hot(argmax p) with identity gradient --------------


def _hard_one_hot(p):
    return jax.nn.one_hot(jnp.argmax(p, axis=-1), p.shape[-1], dtype=p.dtype)


def ste_one_hot_stop_gradient(p, w):
    y = p + lax.stop_gradient(_hard_one_hot(p) - p)
    return jnp.dot(w, y)


@jax.custom_vjp
def _one_hot_identity(p):
    return _hard_one_hot(p)


def _one_hot_fwd(p):
    return _hard_one_hot(p), None


def _one_hot_bwd(_, g):
    return (g,)


_one_hot_identity.defvjp(_one_hot_fwd, _one_hot_bwd)


def ste_one_hot_custom_vjp(p, w):
    return jnp.dot(w, _one_hot_identity(p))


# --- loop-derivative: d/dx x^n through loops that reverse mode can or cannot handle ---------


def _power_scan(x, n):
    return lax.scan(lambda acc, _: (acc * x, None), jnp.ones_like(x), None, length=n)[0]


def jacfwd_while_loop(x, n):
    return jax.jacfwd(_power_while)(x, n)


def jvp_while_loop(x, n):
    return jax.jvp(lambda v: _power_while(v, n), (x,), (jnp.ones_like(x),))[1]


def grad_fori_loop_static_bounds(x, n):
    return jax.grad(_power_fori)(x, n)


def grad_scan(x, n):
    return jax.grad(_power_scan)(x, n)



# --- grad-linear-function: f(x) = a . x, multi-input, scalar output (seed 003) -----------------


def _dot_with(x, a):
    return jnp.dot(a, x)


def linear_grad(x, a):
    return jax.grad(_dot_with)(x, a)


def linear_vjp(x, a):
    out, pullback = jax.vjp(lambda v: _dot_with(v, a), x)
    return pullback(jnp.ones_like(out))[0]


def linear_jacrev(x, a):
    return jax.jacrev(_dot_with)(x, a)


IMPLEMENTATIONS: list[Implementation] = [
    Implementation(pattern="grad-scalar", name="grad", fn=grad_scalar, notes="jax.grad(f)(x)"),
    Implementation(pattern="grad-scalar", name="value_and_grad", fn=value_and_grad_scalar,
                   notes="jax.value_and_grad(f)(x)[1]"),
    Implementation(pattern="grad-scalar", name="jvp_unit_tangent", fn=jvp_unit_tangent,
                   notes="forward mode: jax.jvp(f, (x,), (1,))[1]"),
    Implementation(pattern="grad-scalar", name="jacfwd", fn=jacfwd_scalar, notes="jax.jacfwd(f)(x) of a scalar"),
    Implementation(pattern="grad-partial-derivatives", name="grad_argnums", fn=grad_argnums,
                   notes="jax.grad(f, argnums=(0, 1)) returns a tuple"),
    Implementation(pattern="grad-partial-derivatives", name="grad_each_argument", fn=grad_each_argument,
                   notes="one jax.grad per argnum"),
    Implementation(pattern="grad-partial-derivatives", name="grad_tuple_argument", fn=grad_tuple_argument,
                   notes="differentiate with respect to one pytree argument (x, y)"),
    Implementation(pattern="grad-quadratic-form", name="grad", fn=grad_quadratic, notes="jax.grad wrt x"),
    Implementation(pattern="grad-quadratic-form", name="jacrev", fn=jacrev_quadratic,
                   notes="jax.jacrev of a scalar is the gradient"),
    Implementation(pattern="grad-quadratic-form", name="vjp", fn=vjp_quadratic, notes="jax.vjp with cotangent 1"),
    Implementation(pattern="grad-sigmoid-chain-rule", name="grad_manual_sigmoid", fn=grad_sigmoid_manual,
                   notes="sigmoid written as 1 / (1 + exp(-z))"),
    Implementation(pattern="grad-sigmoid-chain-rule", name="grad_jax_nn_sigmoid", fn=grad_sigmoid_jax_nn,
                   notes="jax.nn.sigmoid"),
    Implementation(pattern="grad-has-aux", name="grad_has_aux", fn=grad_has_aux,
                   notes="jax.grad(f, has_aux=True) returns (gradient, aux)"),
    Implementation(pattern="grad-has-aux", name="value_and_grad_has_aux", fn=value_and_grad_has_aux,
                   notes="jax.value_and_grad(f, has_aux=True) returns ((value, aux), gradient)"),
    Implementation(pattern="jacobian-linear-map", name="jacfwd", fn=jacfwd_linear, notes="forward mode"),
    Implementation(pattern="jacobian-linear-map", name="jacrev", fn=jacrev_linear, notes="reverse mode"),
    Implementation(pattern="jacobian-linear-map", name="vmap_vjp", fn=vmap_vjp_linear,
                   notes="rows of J: one VJP per output basis vector, vmapped"),
    Implementation(pattern="jacobian-linear-map", name="vmap_jvp", fn=vmap_jvp_linear,
                   notes="columns of J: one JVP per input basis vector, vmapped, then transposed"),
    Implementation(pattern="hessian-quadratic-form", name="hessian", fn=hessian_quadratic, notes="jax.hessian"),
    Implementation(pattern="hessian-quadratic-form", name="jacfwd_jacrev", fn=jacfwd_jacrev_quadratic,
                   notes="forward-over-reverse (what jax.hessian does)"),
    Implementation(pattern="hessian-quadratic-form", name="jacrev_jacrev", fn=jacrev_jacrev_quadratic,
                   notes="reverse-over-reverse"),
    Implementation(pattern="hessian-quadratic-form", name="jacfwd_jacfwd", fn=jacfwd_jacfwd_quadratic,
                   notes="forward-over-forward"),
    Implementation(pattern="jvp-linear-map", name="jvp", fn=jvp_linear, notes="jax.jvp: (f(x), J v) in one pass"),
    Implementation(pattern="jvp-linear-map", name="linearize", fn=linearize_linear,
                   notes="jax.linearize, then apply the linear function to v"),
    Implementation(pattern="jvp-linear-map", name="jacfwd_matmul", fn=jacfwd_matmul_linear,
                   notes="materialises J with jacfwd, then J @ v (the slow way)"),
    Implementation(pattern="vjp-linear-map", name="vjp", fn=vjp_linear, notes="jax.vjp: (f(x), u^T J)"),
    Implementation(pattern="vjp-linear-map", name="linear_transpose", fn=linear_transpose_linear,
                   notes="jax.linear_transpose of the (linear) map"),
    Implementation(pattern="vjp-linear-map", name="jacrev_matmul", fn=jacrev_matmul_linear,
                   notes="materialises J with jacrev, then u @ J (the slow way)"),
    Implementation(pattern="stop-gradient-td0", name="stop_gradient", fn=td0_stop_gradient,
                   notes="lax.stop_gradient on the bootstrap target"),
    Implementation(pattern="stop-gradient-td0", name="separate_target_argument", fn=td0_separate_target_argument,
                   notes="the target uses a second copy of theta that grad does not differentiate"),
    Implementation(pattern="straight-through-round", name="stop_gradient_trick", fn=ste_round_stop_gradient,
                   notes="x + stop_gradient(round(x) - x)"),
    Implementation(pattern="straight-through-round", name="custom_jvp", fn=ste_round_custom_jvp,
                   notes="jax.custom_jvp whose tangent rule is the identity"),
    Implementation(pattern="straight-through-round", name="custom_vjp", fn=ste_round_custom_vjp,
                   notes="jax.custom_vjp whose backward rule passes the cotangent through"),
    Implementation(pattern="straight-through-one-hot", name="stop_gradient_trick", fn=ste_one_hot_stop_gradient,
                   notes="p + stop_gradient(one_hot(argmax p) - p)"),
    Implementation(pattern="straight-through-one-hot", name="custom_vjp", fn=ste_one_hot_custom_vjp,
                   notes="jax.custom_vjp one-hot with an identity backward rule"),
    Implementation(pattern="loop-derivative-forward-or-static", name="jacfwd_while_loop", fn=jacfwd_while_loop,
                   notes="forward mode through lax.while_loop"),
    Implementation(pattern="loop-derivative-forward-or-static", name="jvp_while_loop", fn=jvp_while_loop,
                   notes="jax.jvp through lax.while_loop"),
    Implementation(pattern="loop-derivative-forward-or-static", name="grad_fori_loop_static_bounds",
                   fn=grad_fori_loop_static_bounds,
                   notes="reverse mode through lax.fori_loop with Python-int bounds (lowered to scan)"),
    Implementation(pattern="loop-derivative-forward-or-static", name="grad_scan", fn=grad_scan,
                   notes="reverse mode through lax.scan(length=n)"),
    Implementation(pattern="grad-linear-function", name="grad", fn=linear_grad,
                   notes="jax.grad(lambda x, a: jnp.dot(a, x))(x, a)"),
    Implementation(pattern="grad-linear-function", name="vjp", fn=linear_vjp,
                   notes="jax.vjp, the pullback applied to 1.0"),
    Implementation(pattern="grad-linear-function", name="jacrev", fn=linear_jacrev,
                   notes="jax.jacrev: the Jacobian of a scalar function is its gradient"),
]
