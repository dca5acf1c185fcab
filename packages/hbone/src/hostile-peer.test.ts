import { hboneCarrier } from './hbone-carrier.js';
import { describeHboneHostilePeer } from './testing/hostile-peer-suite.js';

describeHboneHostilePeer('hbone', () => hboneCarrier());
