# SPDX-License-Identifier: Apache-2.0
"""The callback crypto libraries for app developers (C++, PHP, Java) and their shared test
vectors. The Python library is modules/openapi/crypto.py; this package holds only the
generator of sdk/vectors.json (`python -m sdk.generate_vectors`)."""
