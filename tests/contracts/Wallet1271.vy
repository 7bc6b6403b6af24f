# pragma version ~=0.4.3
"""
@notice Test-only EIP-1271 contract wallet: a signature is valid when its
        owner EOA signed the hash.
"""

owner: public(address)


@deploy
def __init__(owner_: address):
    self.owner = owner_


@external
@view
def isValidSignature(hash: bytes32, signature: Bytes[65]) -> bytes4:
    r: uint256 = convert(slice(signature, 0, 32), uint256)
    s: uint256 = convert(slice(signature, 32, 32), uint256)
    v: uint256 = convert(slice(signature, 64, 1), uint256)
    if ecrecover(hash, v, r, s) == self.owner:
        return 0x1626ba7e
    return 0xffffffff
