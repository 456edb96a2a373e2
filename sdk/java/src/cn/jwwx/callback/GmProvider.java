// SPDX-License-Identifier: Apache-2.0
package cn.jwwx.callback;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.Provider;
import java.security.Security;
import javax.crypto.Cipher;

/**
 * Finds a JCE provider with SM4/CBC/NoPadding and SM3: an installed one (some JDKs ship
 * them), else BouncyCastle's, loaded by name so that bcprov is needed only in mode "sm4"
 * (Debian: libbcprov-java, /usr/share/java/bcprov.jar; elsewhere org.bouncycastle:bcprov).
 */
final class GmProvider {
    private static final String BOUNCY_CASTLE = "org.bouncycastle.jce.provider.BouncyCastleProvider";
    private static volatile Provider found;

    private GmProvider() {}

    static Provider find() throws AesException {
        Provider cached = found;
        if (cached != null) {
            return cached;
        }
        for (Provider p : Security.getProviders()) {
            if (hasSm(p)) {
                found = p;
                return p;
            }
        }
        try {
            Provider bc = (Provider) Class.forName(BOUNCY_CASTLE).getDeclaredConstructor().newInstance();
            if (hasSm(bc)) {
                found = bc;
                return bc;
            }
        } catch (ReflectiveOperationException | LinkageError e) {
            // fall through to the clear error below
        }
        throw new AesException(AesException.IllegalAesKey,
                "mode sm4 needs SM4 and SM3: put BouncyCastle's bcprov jar on the class path");
    }

    private static boolean hasSm(Provider p) {
        try {
            Cipher.getInstance("SM4/CBC/NoPadding", p);
            MessageDigest.getInstance("SM3", p);
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}
