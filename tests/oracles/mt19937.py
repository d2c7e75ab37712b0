"""An independent oracle for NumPy's legacy global RNG: MT19937 in plain Python (no NumPy).

``np.random.seed(s)`` with an int seeds the Mersenne Twister with the reference
``init_genrand(s)`` (Matsumoto & Nishimura 1998); ``np.random.uniform()``
returns the reference 53-bit double ``(a >> 5) * 2**26 + (b >> 6)) / 2**53``
from two 32-bit outputs. Checked against the reference's published first
output for ``init_genrand(5489)`` (3499211612).
"""

from __future__ import annotations

N, M = 624, 397
M32 = 0xFFFFFFFF


class MT19937:
    """The reference generator: ``init_genrand`` seeding, ``genrand_int32`` and ``genrand_res53``."""

    def __init__(self, seed: int) -> None:
        self.mt = [0] * N
        self.mt[0] = seed & M32
        for i in range(1, N):
            self.mt[i] = (1812433253 * (self.mt[i - 1] ^ (self.mt[i - 1] >> 30)) + i) & M32
        self.i = N

    def _twist(self) -> None:
        mt = self.mt
        for k in range(N):
            y = (mt[k] & 0x80000000) | (mt[(k + 1) % N] & 0x7FFFFFFF)
            mt[k] = mt[(k + M) % N] ^ (y >> 1) ^ (0x9908B0DF if y & 1 else 0)
        self.i = 0

    def int32(self) -> int:
        if self.i >= N:
            self._twist()
        y = self.mt[self.i]
        self.i += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C5680
        y ^= (y << 15) & 0xEFC60000
        y ^= y >> 18
        return y & M32

    def res53(self) -> float:
        a, b = self.int32() >> 5, self.int32() >> 6
        return (a * 67108864.0 + b) / 9007199254740992.0


def global_state_foo(seed: int) -> tuple[float, float]:
    """Seed 003's ``foo = bar() + 2 * baz()`` evaluated left to right, then with baz drawn first."""
    g = MT19937(seed)
    u1, u2 = g.res53(), g.res53()
    return u1 + 2 * u2, u2 + 2 * u1


if __name__ == "__main__":  # pragma: no cover
    assert MT19937(5489).int32() == 3499211612
    print(global_state_foo(0))
