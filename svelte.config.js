import adapter from '@sveltejs/adapter-node';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
  preprocess: vitePreprocess(),
  kit: {
    adapter: adapter({ out: 'build' }),
    // Collectors, the simulator and the scripts live outside src/ and are type-checked with it.
    typescript: {
      config: (tsconfig) => {
        tsconfig.include.push(
          '../collectors/**/*.ts',
          '../sim/**/*.ts',
          '../scripts/**/*.ts',
          '../tests/**/*.ts',
          '../bench/**/*.ts'
        );
        return tsconfig;
      }
    },
    csp: {
      mode: 'auto',
      directives: {
        'default-src': ['self'],
        'img-src': ['self', 'data:'],
        'style-src': ['self', 'unsafe-inline'],
        'object-src': ['none'],
        'base-uri': ['self'],
        'frame-ancestors': ['none']
      }
    }
  }
};

export default config;
