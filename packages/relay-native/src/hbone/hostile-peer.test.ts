import { describeHboneHostilePeer } from '@switchyard/hbone/testing';
import { hboneNativeCarrier } from './hbone-native-carrier.js';

describeHboneHostilePeer('hbone-native', () => hboneNativeCarrier());
