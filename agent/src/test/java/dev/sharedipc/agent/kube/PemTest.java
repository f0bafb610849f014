package dev.sharedipc.agent.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.GeneralSecurityException;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.util.Arrays;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class PemTest {
  static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }

  @Test
  void aPkcs1RsaKeyReadsAsTheKeyItIs() throws Exception {
    PrivateKey key = KeyPairGenerator.getInstance("RSA").generateKeyPair().getPrivate();
    byte[] pkcs8 = key.getEncoded();
    // PKCS#8 of RSA: SEQUENCE { INTEGER 0, AlgorithmIdentifier (15 bytes), OCTET STRING pkcs1 }
    int at = 4 + 3 + 15; // the outer SEQUENCE's 4-byte header, the version, the algorithm
    assertThat(pkcs8[at]).as("OCTET STRING tag").isEqualTo((byte) 0x04);
    byte[] pkcs1 = Arrays.copyOfRange(pkcs8, at + 4, pkcs8.length);

    assertThat(Pem.privateKey(pem("RSA PRIVATE KEY", pkcs1)).getEncoded()).isEqualTo(pkcs8);
    assertThat(Pem.privateKey(pem("PRIVATE KEY", pkcs8)).getEncoded()).isEqualTo(pkcs8);
  }

  @Test
  void anEcPkcs8KeyReads() throws Exception {
    PrivateKey key = KeyPairGenerator.getInstance("EC").generateKeyPair().getPrivate();
    assertThat(Pem.privateKey(pem("PRIVATE KEY", key.getEncoded())).getAlgorithm()).isEqualTo("EC");
  }

  @Test
  void aKeyOfAnotherFormSaysHowToConvertIt() {
    assertThatThrownBy(() -> Pem.privateKey(pem("EC PRIVATE KEY", new byte[] {1, 2, 3})))
        .isInstanceOf(GeneralSecurityException.class)
        .hasMessageContaining("EC PRIVATE KEY")
        .hasMessageContaining("openssl pkcs8 -topk8 -nocrypt");
  }
}
